import pytest

from .helpers import csv_dicts

pytestmark = pytest.mark.django_db

URL = "/reports/evidence/"


def test_evidence_by_stage_matches_hand_counts(client, money):
    rows = {r["stage"]: r for r in csv_dicts(client.get(URL + "?format=csv&table=stages"))}
    embedded = rows["embedded"]  # A, B, E, F
    assert embedded["initiatives"] == "4"
    assert (embedded["with_budget"], embedded["with_budget_percent"]) == ("3", "75.0")
    assert embedded["with_hours"] == "1"
    assert embedded["with_costs_benefits"] == "3"
    assert (embedded["monitored"], embedded["formally_evaluated"]) == ("2", "1")
    assert embedded["no_evidence"] == "1"  # E has no budget framework
    pilot = rows["pilot"]  # D (budget, hours, self-reported), D2 (nothing), D3 (no amount)
    assert (pilot["with_budget"], pilot["with_hours"], pilot["with_costs_benefits"]) == (
        "1",
        "1",
        "0",
    )
    assert (pilot["self_reported"], pilot["monitored"], pilot["no_evidence"]) == ("1", "1", "1")
    everything = rows[""]
    assert (everything["initiatives"], everything["with_budget"], everything["no_evidence"]) == (
        "9",
        "4",
        "4",
    )


def test_evidence_by_sector(client, money):
    rows = {r["sector"]: r for r in csv_dicts(client.get(URL + "?format=csv&table=sectors"))}
    assert list(rows) == ["03", "07", "09", ""]
    assert (rows["09"]["initiatives"], rows["09"]["monitored"]) == ("3", "2")  # F, D3


def test_money_is_summed_per_currency_never_across(client, money):
    rows = {r["currency"]: r for r in csv_dicts(client.get(URL + "?format=csv&table=money"))}
    assert list(rows) == ["CAD", "EUR", "GBP"]
    eur = rows["EUR"]  # A and B
    assert (eur["initiatives"], eur["budget"]) == ("2", "15000.00")
    assert (eur["estimated_costs"], eur["estimated_benefits"]) == ("12000.00", "14000.00")
    assert eur["benefit_cost_ratio"] == "1.17"
    assert eur["benefits_at_least_costs"] == "1"
    assert rows["GBP"]["benefit_cost_ratio"] == "3.00"
    assert rows["GBP"]["initiatives"] == "2"  # D3 gives a currency but no amount
    assert rows["CAD"]["benefit_cost_ratio"] == ""


def test_page_gives_citizens_hours_and_the_same_numbers(client, money):
    page = client.get(URL).content.decode()
    assert "160.5 hours" in page
    assert "15,000.00" in page
    assert "1.17" in page
    assert "<svg" in page


def test_empty_database_renders(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    assert "nothing to count yet" in response.content.decode()
    assert csv_dicts(client.get(URL + "?format=csv&table=money")) == []


def test_business_case_panel_on_the_case_page(client, money):
    response = client.get(money["A"].get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Business case" in page
    assert "Benefit-cost ratio <strong>1.50</strong>" in page
    page = client.get(money["E"].get_absolute_url()).content.decode()
    assert "A business case needs:" in page
