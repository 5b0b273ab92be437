import pytest

from .helpers import csv_dicts

pytestmark = pytest.mark.django_db

URL = "/reports/countries/FIN/"


def test_unknown_or_malformed_country_code_is_404(client, db):
    assert client.get("/reports/countries/XYZ/").status_code == 404
    assert client.get("/reports/countries/fin/").status_code == 404


def test_survey_indicators_beside_the_all_countries_value(client, cases):
    rows = {
        (row["question"], row["item"]): row
        for row in csv_dicts(client.get(URL + "?format=csv&table=indicators"))
    }
    frameworks = rows[("factors", "frameworks")]
    assert (frameworks["country_percent"], frameworks["all_countries_percent"]) == ("50.0", "66.7")
    assert frameworks["reference_percent"] == "73.0"
    leadership = rows[("factors", "leadership")]
    assert (leadership["country_percent"], leadership["all_countries_percent"]) == ("100.0", "66.7")
    # Nobody answered `barriers`: undefined, not zero.
    assert rows[("barriers", "resources")]["country_percent"] == ""
    assert rows[("barriers", "resources")]["reference_percent"] == "42.0"
    assert {row["country"] for row in rows.values()} == {"FIN"}


def test_initiatives_by_stage_and_sector_and_beyond_piloting(client, cases):
    rows = {r["sector"]: r for r in csv_dicts(client.get(URL + "?format=csv&table=sectors"))}
    # FIN: A (03 embedded), G (03 planned), B and E (07 embedded).
    assert (rows["03"]["embedded"], rows["03"]["planned"], rows["03"]["total"]) == ("1", "1", "2")
    assert (rows["07"]["embedded"], rows["07"]["embedded_percent"]) == ("2", "100.0")
    assert rows["03"]["beyond"] == rows["07"]["beyond"] == "yes"
    can = {
        r["sector"]: r
        for r in csv_dicts(client.get("/reports/countries/CAN/?format=csv&table=sectors"))
    }
    assert {r["beyond"] for r in can.values()} == {"no"}
    page = client.get("/reports/countries/CAN/").content.decode()
    assert "No sector has an embedded initiative yet" in page


def test_frameworks_coverage(client, money):
    rows = {r["aspect"]: r for r in csv_dicts(client.get(URL + "?format=csv&table=frameworks"))}
    # FIN: A, B, E, G. Budgets recorded on A and B; A transfers resources to users.
    assert (rows["budget"]["initiatives"], rows["budget"]["percent"]) == ("2", "50.0")
    assert (rows["self_directed"]["initiatives"], rows["self_directed"]["percent"]) == ("1", "25.0")
    assert rows["roles_written"]["initiatives"] == "0"


def test_frameworks_coverage_counts_written_roles_and_accountable_body(client, readiness_cases):
    rows = {
        r["aspect"]: r
        for r in csv_dicts(client.get("/reports/countries/GBR/?format=csv&table=frameworks"))
    }
    # GBR: F and D3; D3 names a body and has written roles.
    assert (rows["roles_written"]["initiatives"], rows["roles_written"]["percent"]) == ("1", "50.0")
    assert rows["accountable_body"]["initiatives"] == "1"


def test_country_names_link_to_the_profile(client, cases):
    from django.template import Context, Template

    from survey.models import Country

    html = Template("{% load maturity_reports %}{% country_link country %}").render(
        Context({"country": Country.objects.get(code="NOR")})
    )
    assert html == '<a href="/reports/countries/NOR/">Norway</a>'
    url = Template("{% load maturity_reports %}{{ 'CAN'|country_report_url }}").render(Context())
    assert url == "/reports/countries/CAN/"


def test_empty_country_renders(client, db):
    response = client.get("/reports/countries/NOR/")
    assert response.status_code == 200
    assert "No published initiative is recorded for this country" in response.content.decode()


def test_bad_filter_is_400(client, db):
    assert client.get(URL + "?wave=NOPE").status_code == 400
    assert client.get(URL + "?sector=77").status_code == 400
