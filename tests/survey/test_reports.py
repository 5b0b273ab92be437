"""The indicator report page and its CSV twin."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from survey.models import Item, Respondent, Response, Wave
from survey.views import CSV_COLUMNS
from tests.factories import WaveFactory, answer

pytestmark = pytest.mark.django_db

PAGE = "/reports/indicators/"
CSV = "/reports/indicators.csv"


@pytest.fixture
def example():
    """The worked example of docs/DOMAIN.md, in the OECD-2010 wave (which has published values)."""
    wave = Wave.objects.get(code="OECD-2010")
    answer(wave, "FIN", "fi-1", "03", "barriers", {"resources": True, "resistance": False})
    answer(wave, "FIN", "fi-1", "07", "barriers", {"resources": True})
    answer(wave, "FIN", "fi-2", "03", "barriers", {"resources": False, "resistance": True})
    answer(wave, "FIN", "fi-2", "07", "barriers", {"incentives": True})
    answer(wave, "CAN", "ca-1", "07", "barriers", {"resources": True, "evidence": False})
    return wave


def read_csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def as_dicts(rows):
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def test_csv_has_exactly_the_columns_in_order(client, example):
    rows = read_csv(client.get(CSV, {"wave": "OECD-2010", "question": "barriers"}))
    assert (
        rows[0]
        == list(CSV_COLUMNS)
        == [
            "wave",
            "question",
            "item",
            "item_label",
            "country",
            "sector",
            "affirmative",
            "responses",
            "percent",
            "reference_percent",
        ]
    )


def test_csv_rows_follow_the_formula_with_published_values(client, example):
    rows = as_dicts(read_csv(client.get(CSV, {"wave": "OECD-2010", "question": "barriers"})))
    assert rows == [
        {
            "wave": "OECD-2010",
            "question": "barriers",
            "item": "resources",
            "item_label": "Shortage of resources",
            "country": "",
            "sector": "",
            "affirmative": "3",
            "responses": "5",
            "percent": "60.0",
            "reference_percent": "42.0",
        },
        {
            "wave": "OECD-2010",
            "question": "barriers",
            "item": "resistance",
            "item_label": "Organisational resistance to change",
            "country": "",
            "sector": "",
            "affirmative": "1",
            "responses": "5",
            "percent": "20.0",
            "reference_percent": "36.0",
        },
        {
            "wave": "OECD-2010",
            "question": "barriers",
            "item": "incentives",
            "item_label": "Lack of financial incentives",
            "country": "",
            "sector": "",
            "affirmative": "1",
            "responses": "5",
            "percent": "20.0",
            "reference_percent": "31.0",
        },
        {
            "wave": "OECD-2010",
            "question": "barriers",
            "item": "evidence",
            "item_label": "Lack of evidence of the potential benefits",
            "country": "",
            "sector": "",
            "affirmative": "0",
            "responses": "5",
            "percent": "0.0",
            "reference_percent": "29.0",
        },
    ]


def test_csv_filters_hold_their_codes(client, example):
    rows = as_dicts(
        read_csv(
            client.get(
                CSV, {"wave": "OECD-2010", "question": "barriers", "country": "fin", "sector": "07"}
            )
        )
    )
    resources = next(r for r in rows if r["item"] == "resources")
    assert (resources["country"], resources["sector"]) == ("FIN", "07")
    # In FIN and 07: fi-1 and fi-2 answered, fi-1 ticked resources.
    assert (resources["affirmative"], resources["responses"], resources["percent"]) == (
        "1",
        "2",
        "50.0",
    )


def test_csv_by_country_has_a_row_per_item_and_country(client, example):
    rows = as_dicts(
        read_csv(
            client.get(
                CSV, {"wave": "OECD-2010", "question": "barriers", "by": "country", "sector": "07"}
            )
        )
    )
    assert len(rows) == 2 * 4
    resources = {r["country"]: r for r in rows if r["item"] == "resources"}
    # In 07: fi-1 ticked resources, fi-2 answered with incentives only; ca-1 ticked it.
    assert resources["FIN"]["percent"] == "50.0"
    assert resources["FIN"]["sector"] == "07"
    assert resources["CAN"]["percent"] == "100.0"


def test_csv_by_sector_has_a_row_per_item_and_sector(client, example):
    rows = as_dicts(
        read_csv(
            client.get(
                CSV, {"wave": "OECD-2010", "question": "barriers", "by": "sector", "country": "FIN"}
            )
        )
    )
    resources = {r["sector"]: r for r in rows if r["item"] == "resources"}
    assert set(resources) == {"03", "07"}
    assert resources["03"]["country"] == "FIN"
    assert (resources["03"]["affirmative"], resources["03"]["responses"]) == ("1", "2")
    assert resources["07"]["percent"] == "50.0"


def test_csv_percent_is_empty_without_responses_and_reference_when_unpublished(client, example):
    rows = as_dicts(read_csv(client.get(CSV, {"wave": "OECD-2010", "question": "factors"})))
    assert {r["responses"] for r in rows} == {"0"}
    assert {r["percent"] for r in rows} == {""}
    published = {r["item"]: r["reference_percent"] for r in rows}
    assert published == {"leadership": "", "engagement": "", "frameworks": "73.0", "skills": ""}


def test_csv_percent_is_rounded_to_one_decimal(client, example):
    rows = as_dicts(
        read_csv(client.get(CSV, {"wave": "OECD-2010", "question": "barriers", "sector": "07"}))
    )
    assert next(r for r in rows if r["item"] == "resources")["percent"] == "66.7"


def test_csv_item_label_follows_the_language(client, example):
    rows = as_dicts(
        read_csv(client.get("/fr" + CSV, {"wave": "OECD-2010", "question": "barriers"}))
    )
    assert rows[0]["item_label"] == "Manque de ressources"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"wave": "NOPE"}, "Unknown wave “NOPE”"),
        ({"question": "hopes"}, "Unknown question “hopes”"),
        ({"country": "XX"}, "Unknown country “XX”"),
        ({"sector": "11"}, "Unknown sector “11”"),
        ({"by": "item"}, "Unknown breakdown “item”"),
        ({"wave": "OECD\x00-2010"}, "Null characters are not allowed"),
        ({"country": "F" * 500}, "Unknown country"),
    ],
)
def test_bad_parameters_are_a_400_with_a_clear_message(client, example, params, message):
    query = {"wave": "OECD-2010", "question": "barriers", **params}
    response = client.get(CSV, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert message in response.content.decode()
    page = client.get(PAGE, query)
    assert page.status_code == 400
    assert message in page.content.decode()


def test_page_shows_chart_with_published_marker_and_counts_table(client, example):
    response = client.get(PAGE, {"wave": "OECD-2010", "question": "barriers"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html
    assert 'role="img"' in html
    assert "Published by the OECD" in html
    rows = {row.item.code: row for row in response.context["rows"]}
    assert (rows["resources"].affirmative, rows["resources"].responses) == (3, 5)
    assert "60.0%" in html
    assert "42.0%" in html
    assert '<td class="num">3</td>' in html
    assert '<td class="num">5</td>' in html
    assert 'href="/reports/indicators.csv?wave=OECD-2010&amp;question=barriers' in html


def test_page_defaults_to_oecd_2010_and_reasons(client, example):
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.context["wave"].code == "OECD-2010"
    assert response.context["question"].code == "reasons"


def test_page_defaults_to_a_wave_with_data_when_oecd_2010_has_none(client):
    wave = WaveFactory(code="LOCAL-2022", year=2022)
    answer(wave, "FRA", "r", "09", "reasons", {"costs": True})
    assert client.get(PAGE).context["wave"] == wave


def test_empty_data_shows_dashes_not_zero(client, example):
    response = client.get(PAGE, {"wave": "OECD-2010", "question": "factors"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "0.0%" not in html
    assert html.count('class="num nodata">—</td>') >= 4


def test_page_breakdown_by_country_has_table_and_a_chart_per_item(client, example):
    response = client.get(PAGE, {"wave": "OECD-2010", "question": "barriers", "by": "country"})
    html = response.content.decode()
    assert response.context["groups"] == [("CAN", "Canada"), ("FIN", "Finland")]
    assert 'class="chart-multiples"' in html
    assert html.count("<svg") == 1 + 4
    assert "50.0%<br><small>2/4</small>" in html  # resources in FIN


def test_page_breakdown_by_sector_with_a_country_filter(client, example):
    response = client.get(
        PAGE, {"wave": "OECD-2010", "question": "barriers", "by": "sector", "country": "FIN"}
    )
    assert [code for code, _ in response.context["groups"]] == ["03", "07"]


def make_responses(total, prefix):
    """`total` responses to `barriers`, 4 items per (respondent, sector) pair, in bulk."""
    wave = Wave.objects.get(code="OECD-2010")
    items = list(Item.objects.filter(question__code="barriers"))
    countries = ["FIN", "CAN", "FRA", "DEU", "GBR"]
    pairs = total // len(items)
    respondents = Respondent.objects.bulk_create(
        Respondent(wave=wave, country_id=countries[n % 5], code=f"{prefix}{n}")
        for n in range(pairs // 10 + 1)
    )
    Response.objects.bulk_create(
        (
            Response(
                respondent=respondents[n // 10],
                sector_id=f"{n % 10 + 1:02d}",
                item=item,
                affirmative=(n + k) % 3 == 0,
            )
            for n in range(pairs)
            for k, item in enumerate(items)
        ),
        batch_size=2000,
    )


def count_queries(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"wave": "OECD-2010", **params})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "params",
    [
        {"question": "barriers"},
        {"question": "barriers", "by": "country", "sector": "03"},
        {"question": "barriers", "by": "sector", "country": "FIN"},
    ],
)
def test_reports_take_a_constant_number_of_queries(client, settings, params):
    # The report's own queries, computed each time (records are added in bulk, unseen by
    # the report cache).
    settings.REPORT_CACHE_SECONDS = 0
    make_responses(100, "small")
    assert Response.objects.count() == 100
    small = {url: count_queries(client, url, params) for url in (PAGE, CSV)}
    make_responses(9_900, "large")
    assert Response.objects.count() == 10_000
    large = {url: count_queries(client, url, params) for url in (PAGE, CSV)}
    assert small == large
    assert large[CSV] <= 8
    assert large[PAGE] <= 20


def test_page_and_csv_give_the_same_numbers(client, example):
    params = {"wave": "OECD-2010", "question": "barriers", "by": "country"}
    page = client.get(PAGE, params)
    on_screen = {
        (cell.item.code, cell.group): (cell.affirmative, cell.responses, cell.percent_rounded)
        for _item, cells, _overall in page.context["breakdown"]
        for cell in cells
        if cell
    }
    in_csv = {
        (row["item"], row["country"]): (
            int(row["affirmative"]),
            int(row["responses"]),
            row["percent"],
        )
        for row in as_dicts(read_csv(client.get(CSV, params)))
    }
    assert {k: (a, r, str(p)) for k, (a, r, p) in on_screen.items()} == in_csv


def test_csv_download_link_keeps_the_parameters(client, example):
    page = client.get(
        PAGE, {"wave": "OECD-2010", "question": "barriers", "country": "fin", "by": "sector"}
    )
    assert page.context["csv_query"] == (
        "wave=OECD-2010&question=barriers&country=FIN&sector=&by=sector"
    )
    response = client.get(CSV + "?" + page.context["csv_query"])
    assert response.status_code == 200
    assert {row["country"] for row in as_dicts(read_csv(response))} == {"FIN"}
