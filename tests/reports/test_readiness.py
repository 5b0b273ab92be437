import datetime

import pytest

from initiatives import reports
from initiatives.models import AccountabilityFramework, Initiative
from tests.factories import add_participation

from .helpers import csv_dicts

pytestmark = pytest.mark.django_db

URL = "/reports/readiness/"


def test_only_staff_see_the_readiness_report(client, user, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.get(URL + "?format=csv").status_code == 403


def test_pilots_listed_by_readiness_with_each_check(client, staff, readiness_cases):
    client.force_login(staff)
    rows = csv_dicts(client.get(URL + "?format=csv"))
    titles = [row["title"] for row in rows]
    # Every active pilot, published or not (J is a draft); the archived I is left out.
    assert titles == ["D3", "J", "D", "D2"]
    by_title = {row["title"]: row for row in rows}
    assert by_title["D3"]["score"] == "6"
    assert by_title["D3"]["ready"] == "yes"
    assert {key: by_title["J"][key] for key in ("funding", "evidence", "leadership")} == {
        "funding": "no",
        "evidence": "no",
        "leadership": "yes",
    }
    assert by_title["J"]["score"] == "4"
    d = by_title["D"]
    assert [d[check.key] for check in reports.READINESS_CHECKS] == [
        "no",  # leadership not tagged
        "yes",  # citizens in design and delivery
        "no",  # roles not written down
        "no",  # no funding beyond the pilot
        "no",  # self-reported evidence only
        "no",  # resistance met but not addressed
    ]
    assert by_title["D2"]["score"] == "0"  # citizens in one phase only; no barriers listed


def test_each_rule_boundary(staff, readiness_cases):
    """Partner types other than citizen/user do not count; one phase is not enough."""
    c = readiness_cases
    d2 = reports.readiness_of(c["D2"])
    assert {check.key: met for check, met in d2.checks}["engagement"] is False
    assert reports.readiness_of(c["A"]) is None  # embedded: no checklist
    d3 = reports.readiness_of(c["D3"])
    assert d3.ready
    assert d3.missing == []


def test_summary_counts_pilots_meeting_each_check(client, staff, readiness_cases):
    summary = reports.readiness_summary(Initiative.objects.active())
    assert (summary.pilots, summary.ready) == (4, 1)
    assert summary.counts == {
        "leadership": 2,
        "engagement": 3,
        "accountability": 2,
        "funding": 1,
        "evidence": 1,
        "barriers": 2,
    }
    client.force_login(staff)
    page = client.get(URL).content.decode()
    assert "1 of 4 pilots meet all six checks." in page
    assert "<svg" in page


def test_case_page_shows_missing_checks_as_next_steps(client, readiness_cases):
    page = client.get(readiness_cases["D"].get_absolute_url()).content.decode()
    assert "1 of 6 readiness check met" in page
    assert "Next steps" in page
    assert "Secure funding beyond the pilot" in page
    assert "Involve citizens or service users" not in page  # that one is met
    ready = client.get(readiness_cases["D3"].get_absolute_url()).content.decode()
    assert "meets every check" in ready
    embedded = client.get(readiness_cases["A"].get_absolute_url()).content.decode()
    assert "readiness check" not in embedded


def test_filters_apply_to_the_staff_list(client, staff, readiness_cases):
    client.force_login(staff)
    rows = csv_dicts(client.get(URL + "?format=csv&country=GBR"))
    assert [row["title"] for row in rows] == ["D3"]


def test_empty_list_renders(client, staff):
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 200
    assert "No active pilot matches these filters." in response.content.decode()


def _pilot(staff, **records):
    from .conftest import budget, recorded, tag

    pilot = recorded(staff, "Boundary", "FIN", "07", [("pilot", datetime.date(2024, 1, 1))])
    for phase, partner_type in records.get("participations", []):
        add_participation(pilot, phase=phase, partner_type=partner_type)
    if "accountability" in records:
        AccountabilityFramework.objects.create(initiative=pilot, **records["accountability"])
    if "budget" in records:
        budget(pilot, **records["budget"])
    for field in ("factors", "barriers", "barriers_addressed"):
        if field in records:
            tag(pilot, field, *records[field])
    return {check.key: met for check, met in reports.readiness_of(pilot).checks}


@pytest.mark.parametrize(
    ("records", "check", "met"),
    [
        ({"participations": [("design", "citizen"), ("design", "user")]}, "engagement", False),
        ({"participations": [("design", "citizen"), ("assess", "user")]}, "engagement", True),
        ({"participations": [("design", "cso"), ("assess", "citizen")]}, "engagement", False),
        (
            {"accountability": {"accountable_body": "", "roles_written": True}},
            "accountability",
            False,
        ),
        (
            {"accountability": {"accountable_body": "Board", "roles_written": True}},
            "accountability",
            True,
        ),
        ({"budget": {"evidence_level": "self_reported"}}, "evidence", False),
        ({"budget": {"evidence_level": "formally_evaluated"}}, "evidence", True),
        ({"budget": {"funded_beyond_pilot": False}}, "funding", False),
        ({"barriers_addressed": ["resources"]}, "barriers", False),
        (
            {"barriers": ["resources", "incentives"], "barriers_addressed": ["incentives"]},
            "barriers",
            False,
        ),
        ({"barriers": ["resources"], "barriers_addressed": ["resources"]}, "barriers", True),
        ({"factors": ["engagement"]}, "leadership", False),
        ({"factors": ["leadership"]}, "leadership", True),
    ],
)
def test_each_check_at_its_boundary(staff, records, check, met):
    assert _pilot(staff, **records)[check] is met


def test_the_list_is_paged_and_its_csv_holds_every_pilot(
    client, staff, readiness_cases, monkeypatch
):
    from initiatives.report_views import ReadinessView

    monkeypatch.setattr(ReadinessView, "paginate_by", 3)
    client.force_login(staff)
    first = client.get(URL).content.decode()
    assert "1–3 of 4" in first
    assert "Page 1 of 2" in first
    second = client.get(URL + "?page=2").content.decode()
    assert "4–4 of 4" in second
    assert "Page 2 of 2" in second
    # The pilots readiest first, split across the pages, each shown once.
    shown = [
        title
        for page in (first, second)
        for title in ("D3", "J", "D", "D2")
        if f"</a> {title}<br>" in page
    ]
    assert shown == ["D3", "J", "D", "D2"]
    assert all(f"</a> {title}<br>" in first for title in ("D3", "J", "D"))
    assert "</a> D2<br>" in second
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    # The summary counts every pilot whatever the page; the CSV link leaves the page out.
    assert "1 of 4 pilots meet all six checks." in second
    assert "page=" not in second.split("format=csv")[0].rsplit('href="', 1)[1]
    rows = csv_dicts(client.get(URL + "?format=csv&table=pilots&page=2"))
    assert [row["title"] for row in rows] == ["D3", "J", "D", "D2"]


@pytest.mark.parametrize("page", ["3", "0", "x", "-1"])
def test_a_page_that_does_not_exist_is_a_bad_request(
    client, staff, readiness_cases, monkeypatch, page
):
    from initiatives.report_views import ReadinessView

    monkeypatch.setattr(ReadinessView, "paginate_by", 3)
    client.force_login(staff)
    response = client.get(URL, {"page": page})
    assert response.status_code == 400
