"""The waves compared report: one question across waves, its page and CSV twin."""

import csv
import io
from decimal import Decimal

import pytest

from survey.models import Question, ReferenceValue, Wave
from survey.reports import wave_comparison
from tests.factories import WaveFactory, answer

pytestmark = pytest.mark.django_db

PAGE = "/reports/waves/"
CSV = "/reports/waves.csv"


@pytest.fixture
def waves():
    old = Wave.objects.get(code="OECD-2010")  # it has published values
    new = WaveFactory(code="W-2024", year=2024)
    # 2010: resources 2 of 3 pairs; evidence asked, never ticked (0 %, not missing).
    answer(old, "FIN", "f1", "03", "barriers", {"resources": True, "evidence": False})
    answer(old, "FIN", "f2", "03", "barriers", {"resources": True})
    answer(old, "CAN", "c1", "07", "barriers", {"resources": False})
    # 2024: resources 1 of 4 pairs; evidence not asked at all (missing); incentives new.
    answer(new, "FIN", "f1", "03", "barriers", {"resources": True, "incentives": True})
    answer(new, "FIN", "f2", "03", "barriers", {"resources": False})
    answer(new, "FIN", "f3", "07", "barriers", {"resources": False})
    answer(new, "CAN", "c1", "07", "barriers", {"incentives": True})
    return old, new


def read_csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    header, *rows = list(csv.reader(io.StringIO(text)))
    return [dict(zip(header, row, strict=True)) for row in rows]


def cells(rows, item):
    return {row["wave"]: row for row in rows if row["item"] == item}


def test_each_item_per_wave_with_change_pairs_and_published_value(client, waves):
    rows = read_csv(client.get(CSV, {"question": "barriers"}))
    resources = cells(rows, "resources")
    assert resources["OECD-2010"]["percent"] == "66.7"
    assert (resources["OECD-2010"]["affirmative"], resources["OECD-2010"]["responses"]) == (
        "2",
        "3",
    )
    assert resources["OECD-2010"]["reference_percent"] == "42.0"
    assert resources["OECD-2010"]["change_points"] == ""
    assert resources["W-2024"]["percent"] == "25.0"
    assert resources["W-2024"]["responses"] == "4"
    assert resources["W-2024"]["change_points"] == "-41.7"
    assert resources["W-2024"]["reference_percent"] == ""


def test_an_item_missing_from_a_wave_is_missing_never_zero(client, waves):
    rows = read_csv(client.get(CSV, {"question": "barriers"}))
    evidence = cells(rows, "evidence")
    assert evidence["OECD-2010"]["percent"] == "0.0"  # asked, nobody ticked
    assert evidence["W-2024"]["percent"] == ""  # not asked: missing
    assert evidence["W-2024"]["affirmative"] == ""
    assert evidence["W-2024"]["change_points"] == ""
    incentives = cells(rows, "incentives")
    assert incentives["OECD-2010"]["percent"] == ""
    assert incentives["W-2024"]["percent"] == "50.0"
    html = client.get(PAGE, {"question": "barriers"}).content.decode()
    assert "not asked" in html


def test_filters_by_country_and_sector_and_chosen_waves(client, waves):
    rows = read_csv(client.get(CSV, {"question": "barriers", "country": "fin", "sector": "03"}))
    resources = cells(rows, "resources")
    assert resources["OECD-2010"]["percent"] == "100.0"
    assert resources["W-2024"]["percent"] == "50.0"
    assert {row["country"] for row in rows} == {"FIN"}
    assert {row["sector"] for row in rows} == {"03"}
    only = read_csv(client.get(CSV, {"question": "barriers", "wave": "W-2024"}))
    assert {row["wave"] for row in only} == {"W-2024"}


def test_waves_run_oldest_first_and_the_report_agrees_with_the_indicators(waves):
    from survey.reports import indicator_rows

    old, new = waves
    question = Question.objects.get(code="barriers")
    rows = wave_comparison(question=question, waves=[old, new])
    for wave_index, wave in enumerate((old, new)):
        single = {r.item.code: r for r in indicator_rows(wave=wave, question=question)}
        for row in rows:
            cell = row.cells[wave_index]
            if cell.asked:
                assert cell.percent_rounded == single[row.item.code].percent_rounded


def test_the_page_has_a_chart_a_table_and_its_csv_link(client, waves):
    response = client.get(PAGE, {"question": "barriers"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html
    assert "OECD-2010" in html
    assert "W-2024" in html
    assert "-41.7 pts" in html
    assert "/reports/waves.csv?question=barriers" in html
    french = client.get("/fr" + PAGE, {"question": "barriers"}).content.decode()
    assert "Vagues de l’enquête comparées" in french


def test_the_report_is_linked_from_the_report_pages(client, waves):
    assert "/reports/waves/" in client.get("/reports/indicators/").content.decode()
    assert "/reports/waves/" in client.get("/reports/maturity/").content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"question": "nope"}, "Unknown question"),
        ({"question": "barriers", "wave": "NOPE"}, "Unknown wave"),
        ({"question": "barriers", "country": "XX"}, "Unknown country"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_problem(client, waves, params, message):
    page = client.get(PAGE, params)
    assert page.status_code == 400
    assert message in page.content.decode()
    csv_answer = client.get(CSV, params)
    assert csv_answer.status_code == 400
    assert message in csv_answer.content.decode()


def test_the_report_takes_a_constant_number_of_queries(
    client, waves, django_assert_max_num_queries
):
    ReferenceValue.objects.filter(percent__isnull=True).delete()
    with django_assert_max_num_queries(12):
        client.get(CSV, {"question": "barriers"})
    assert (
        Decimal("42.0") == ReferenceValue.objects.get(wave=waves[0], item__code="resources").percent
    )


def test_the_xlsx_twin_holds_the_same_rows_with_numbers_as_numbers(client, waves):
    from openpyxl import load_workbook

    response = client.get("/reports/waves.xlsx", {"question": "barriers"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="waves-barriers.xlsx"')
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    header, *rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    as_csv = read_csv(client.get(CSV, {"question": "barriers"}))
    assert header == list(as_csv[0])
    assert len(rows) == len(as_csv)
    resources = {row[3]: row for row in rows if row[1] == "resources"}
    assert resources["W-2024"][8] == 25.0
    assert resources["W-2024"][9] == -41.7
    assert resources["OECD-2010"][10] == 42.0
