from decimal import Decimal

import pytest
from django.db import connection

from initiatives import reports
from initiatives.models import Initiative

from .helpers import csv_dicts

pytestmark = pytest.mark.django_db

URL = "/reports/maturity/"


def test_counts_only_published_initiatives_that_are_not_archived(client, cases):
    rows = {row["stage"]: row for row in csv_dicts(client.get(URL + "?format=csv&table=stages"))}
    assert {code: rows[code]["initiatives"] for code in rows} == {
        "planned": "1",
        "pilot": "3",
        "embedded": "4",
        "discontinued": "1",
        "": "9",
    }
    assert rows["embedded"]["percent"] == "44.4"
    assert rows["pilot"]["percent"] == "33.3"


def test_stages_by_sector_and_by_country_with_shares(client, cases):
    sectors = {
        row["sector"]: row for row in csv_dicts(client.get(URL + "?format=csv&table=sectors"))
    }
    assert list(sectors) == ["03", "07", "09"]
    assert sectors["07"]["sector_label"] == "Health"
    assert (sectors["07"]["embedded"], sectors["07"]["discontinued"], sectors["07"]["total"]) == (
        "2",
        "1",
        "3",
    )
    assert sectors["07"]["embedded_percent"] == "66.7"
    assert sectors["09"]["pilot"] == "2"
    countries = {
        row["country"]: row for row in csv_dicts(client.get(URL + "?format=csv&table=countries"))
    }
    assert list(countries) == ["CAN", "FIN", "GBR"]  # by name: Canada, Finland, United Kingdom
    assert (countries["FIN"]["embedded"], countries["FIN"]["planned"]) == ("3", "1")
    assert countries["FIN"]["embedded_percent"] == "75.0"
    assert countries["CAN"]["total"] == "3"


def test_conversion_of_initiatives_that_were_ever_pilots(client, cases):
    rows = {
        row["outcome"]: row for row in csv_dicts(client.get(URL + "?format=csv&table=conversion"))
    }
    # A, B, C, D, E, D2, D3 were pilots at some point; F went straight to embedded.
    assert rows[""]["initiatives"] == "7"
    assert (rows["embedded"]["initiatives"], rows["embedded"]["percent"]) == ("3", "42.9")
    assert (rows["discontinued"]["initiatives"], rows["discontinued"]["percent"]) == ("1", "14.3")
    assert (rows["pilot"]["initiatives"], rows["pilot"]["percent"]) == ("3", "42.9")
    assert rows["planned"]["initiatives"] == "0"


def test_time_to_embedding_quartiles_from_the_stage_history(client, cases):
    # A 100 days (03), B 200 days (07), E 365 days (07; it was planned before the pilot).
    rows = {row["sector"]: row for row in csv_dicts(client.get(URL + "?format=csv&table=time"))}
    assert rows[""] == {
        "sector": "",
        "sector_label": "All sectors",
        "initiatives": "3",
        "q1_days": "150.0",
        "median_days": "200.0",
        "q3_days": "282.5",
        "initiatives_on_reported_dates": "0",  # staff recorded every date: all confirmed
    }
    assert (rows["03"]["q1_days"], rows["03"]["median_days"], rows["03"]["q3_days"]) == (
        "100.0",
        "100.0",
        "100.0",
    )
    assert (rows["07"]["q1_days"], rows["07"]["median_days"], rows["07"]["q3_days"]) == (
        "241.3",
        "282.5",
        "323.8",
    )


def logged_by_the_group(member, organisation, pilot, embedded):
    """A published initiative of sector 07 whose group reported when it was a pilot and
    when it was embedded."""
    from tests.factories import make_initiative

    return make_initiative(
        by=member,
        organisation=organisation,
        sector=Initiative.objects.get(title="B").sector,
        stage="embedded",
        stage_dates={"pilot": pilot, "embedded": embedded},
        review_status="published",
    )


def test_the_time_to_embedding_table_tells_reported_dates_from_confirmed_ones(
    client, cases, staff, member, organisation
):
    import datetime

    from initiatives import services

    D = datetime.date
    logged = logged_by_the_group(member, organisation, D(2021, 1, 1), D(2022, 1, 1))

    def table():
        return {r["sector"]: r for r in csv_dicts(client.get(URL + "?format=csv&table=time"))}

    rows = table()
    assert rows[""]["initiatives"] == "4"
    assert rows[""]["initiatives_on_reported_dates"] == "1"
    assert rows["07"]["initiatives_on_reported_dates"] == "1"
    assert rows["03"]["initiatives_on_reported_dates"] == "0"
    page = client.get(URL).content.decode()
    assert "1 of these initiatives rests on a pilot or embedded date its group reported" in page
    for in_database in (False, True) if connection.vendor == "postgresql" else (False,):
        timing = reports.time_to_embedding(reports.public_initiatives(), in_database=in_database)
        assert timing.overall.reported == 1

    services.stage_history_confirm(initiative=logged, by=staff)

    assert table()[""]["initiatives_on_reported_dates"] == "0"
    page = client.get(URL).content.decode()
    assert "Every pilot and embedded date counted here is confirmed by a case officer." in page


def test_only_the_dates_the_time_is_measured_between_count_as_reported(
    client, cases, staff, member, organisation
):
    """A later, unconfirmed pilot entry does not make a confirmed measurement "reported"."""
    import datetime

    from initiatives import services

    D = datetime.date
    again = logged_by_the_group(member, organisation, D(2018, 1, 1), D(2019, 1, 1))
    services.stage_history_confirm(initiative=again, by=staff)
    for stage, on in (("discontinued", D(2020, 1, 1)), ("pilot", D(2021, 1, 1))):
        again.stage_changes.create(
            from_stage="", to_stage=stage, changed_on=on, changed_by=member, reason="reported"
        )

    rows = {r["sector"]: r for r in csv_dicts(client.get(URL + "?format=csv&table=time"))}

    assert rows[""]["initiatives"] == "4"
    assert rows[""]["initiatives_on_reported_dates"] == "0"


def test_time_to_embedding_is_the_same_in_the_database_and_in_python(cases, staff):
    from .conftest import more_cases

    more_cases(staff, 14)
    queryset = reports.public_initiatives()
    portable = reports.time_to_embedding(queryset, in_database=False)
    assert portable.overall.count == 3 + 5
    if connection.vendor != "postgresql":
        pytest.skip("percentile_cont needs PostgreSQL; the portable path is checked above")
    database = reports.time_to_embedding(queryset, in_database=True)
    assert database == portable


def test_a_later_re_embedding_counts_from_the_first_embedding(cases, staff):
    import datetime

    from initiatives import services

    from .conftest import recorded

    twice = recorded(
        staff,
        "Twice",
        "NOR",
        "10",
        [
            ("pilot", datetime.date(2024, 1, 1)),
            ("embedded", datetime.date(2024, 1, 11)),
            ("discontinued", datetime.date(2024, 2, 1)),
        ],
    )
    services.initiative_change_stage(
        initiative=twice, to_stage="embedded", by=staff, reason="Back", on=datetime.date(2024, 6, 1)
    )
    timing = reports.time_to_embedding(Initiative.objects.filter(pk=twice.pk))
    assert timing.overall.median == Decimal("10.0")


@pytest.mark.parametrize("in_database", [False, True])
def test_time_to_embedding_of_initiatives_chosen_by_their_history_reads_the_whole_history(
    cases, in_database
):
    # Chosen because they were embedded once (A, B, E, F): the days still run from the
    # first pilot, which the choice itself does not match.
    if in_database and connection.vendor != "postgresql":
        pytest.skip("percentile_cont needs PostgreSQL")
    queryset = reports.public_initiatives().filter(stage_changes__to_stage="embedded")
    timing = reports.time_to_embedding(queryset, in_database=in_database)
    overall = timing.overall
    assert (overall.count, overall.q1, overall.median, overall.q3) == (
        3,
        Decimal("150.0"),
        Decimal("200.0"),
        Decimal("282.5"),
    )
    assert [(row.code, row.count) for row in timing.by_sector] == [("03", 1), ("07", 2)]


def test_time_to_embedding_and_beyond_piloting_take_a_fixed_number_of_queries(
    cases, django_assert_num_queries
):
    queryset = reports.public_initiatives()
    with django_assert_num_queries(2):  # the durations or their quartiles, and the sectors
        reports.time_to_embedding(queryset)
    with django_assert_num_queries(3):  # the country-by-sector cells, country names, sectors
        reports.beyond_piloting(queryset)


def test_beyond_piloting_sorts_countries_by_sectors_with_an_embedded_initiative(client, cases):
    rows = csv_dicts(client.get(URL + "?format=csv&table=beyond"))
    assert [(row["country"], row["sectors_beyond_piloting"], row["sectors"]) for row in rows] == [
        ("FIN", "2", "2"),
        ("GBR", "1", "1"),
        ("CAN", "0", "3"),
    ]
    assert rows[0]["sectors_beyond_piloting_codes"] == "03 07"
    page = client.get(URL).content.decode()
    assert 'href="/reports/countries/FIN/"' in page


def test_filters_narrow_every_table(client, cases):
    rows = {
        row["stage"]: row["initiatives"]
        for row in csv_dicts(client.get(URL + "?format=csv&table=stages&country=GBR"))
    }
    assert rows == {"planned": "0", "pilot": "1", "embedded": "1", "discontinued": "0", "": "2"}
    regional = csv_dicts(client.get(URL + "?format=csv&table=stages&level=regional"))
    assert regional[-1]["initiatives"] == "1"  # D3
    started_2025 = csv_dicts(client.get(URL + "?format=csv&table=stages&started_from=2025-01-01"))
    assert started_2025[-1]["initiatives"] == "1"  # E
    before = csv_dicts(client.get(URL + "?format=csv&table=stages&started_to=2024-12-31"))
    assert before[-1]["initiatives"] == "8"
    sector = csv_dicts(client.get(URL + "?format=csv&table=time&sector=07"))
    assert [row["initiatives"] for row in sector] == ["2", "2"]


def test_page_shows_the_same_numbers_as_the_csv(client, cases):
    page = client.get(URL).content.decode()
    # Quartiles of the time to embedding, in whole days (the CSV keeps 282.5 and 150.0).
    assert ">283<" in page
    assert ">150<" in page
    assert "282.5" not in page
    assert "42.9%" in page  # conversion to embedded
    assert "<svg" in page
    assert 'role="img"' in page
    assert "published initiatives that are not archived" in page


def test_empty_database_renders_without_errors(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    assert "nothing to count yet" in response.content.decode()
    for table in ("stages", "sectors", "countries", "conversion", "time", "beyond"):
        assert client.get(f"{URL}?format=csv&table={table}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "country=XXX",
        "sector=99",
        "level=galactic",
        "started_from=yesterday",
        "format=xml",
        "format=csv&table=nope",
    ],
)
def test_bad_parameters_get_400(client, cases, query):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
