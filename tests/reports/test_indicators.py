import pytest

from .conftest import tag
from .helpers import csv_dicts, csv_rows

pytestmark = pytest.mark.django_db

URL = "/reports/maturity/indicators/"

COLUMNS = [
    "item",
    "item_label",
    "embedded_with_item",
    "embedded_total",
    "embedded_percent",
    "pilot_with_item",
    "pilot_total",
    "pilot_percent",
    "difference_points",
    "survey_percent",
    "reference_percent",
]


def test_csv_has_exactly_the_agreed_columns_in_order(client, cases):
    header, *rows = csv_rows(client.get(URL + "?wave=OECD-2010&question=factors&format=csv"))
    assert header == COLUMNS
    assert [row[0] for row in rows] == ["leadership", "engagement", "frameworks", "skills"]


def test_current_stage_comparison_matches_hand_computed_numbers(client, cases):
    rows = {row["item"]: row for row in csv_dicts(client.get(URL + "?format=csv"))}
    # Embedded now: A, B, E, F (4). Pilots now: D, D2, D3 (3). Survey: 3 pairs answered.
    assert rows["frameworks"] == {
        "item": "frameworks",
        "item_label": "Clear accountability and financial frameworks",
        "embedded_with_item": "4",
        "embedded_total": "4",
        "embedded_percent": "100.0",
        "pilot_with_item": "2",
        "pilot_total": "3",
        "pilot_percent": "66.7",
        "difference_points": "33.3",
        "survey_percent": "66.7",
        "reference_percent": "73.0",
    }
    leadership = rows["leadership"]
    assert (leadership["embedded_percent"], leadership["pilot_percent"]) == ("25.0", "33.3")
    assert leadership["difference_points"] == "-8.3"
    assert leadership["survey_percent"] == "66.7"
    assert leadership["reference_percent"] == ""  # not published
    assert (rows["skills"]["embedded_with_item"], rows["skills"]["pilot_with_item"]) == ("1", "0")


def test_stage_at_a_date_uses_the_stage_history(client, cases):
    rows = {
        row["item"]: row for row in csv_dicts(client.get(URL + "?format=csv&stage_on=2024-06-30"))
    }
    # On 2024-06-30: embedded A, F; pilots B, D, E, D2, D3 (C was discontinued on 06-01).
    frameworks = rows["frameworks"]
    assert (frameworks["embedded_with_item"], frameworks["embedded_total"]) == ("2", "2")
    assert (frameworks["pilot_with_item"], frameworks["pilot_total"]) == ("4", "5")
    assert (frameworks["pilot_percent"], frameworks["difference_points"]) == ("80.0", "20.0")
    leadership = rows["leadership"]
    assert (leadership["embedded_percent"], leadership["pilot_percent"]) == ("50.0", "20.0")


def test_empty_group_is_a_dash_not_an_error(client, cases):
    rows = {
        row["item"]: row for row in csv_dicts(client.get(URL + "?format=csv&stage_on=2023-12-31"))
    }
    assert rows["frameworks"]["embedded_total"] == "1"  # only F existed, embedded
    assert rows["frameworks"]["pilot_total"] == "0"
    assert rows["frameworks"]["pilot_percent"] == ""
    assert rows["frameworks"]["difference_points"] == ""
    page = client.get(URL + "?stage_on=2023-12-31").content.decode()
    assert "no pilots to compare" in page
    assert "—" in page
    # Without survey answers, the sentence falls back on the published value.
    reasons = client.get(URL + "?question=barriers").content.decode()
    assert (
        "Shortage of resources: 0% of embedded initiatives vs 0% of pilots; 42% of OECD "
        "respondents name it as a barrier (published value)."
    ) in reasons


def test_survey_value_follows_the_country_filter(client, cases):
    rows = {row["item"]: row for row in csv_dicts(client.get(URL + "?format=csv&country=FIN"))}
    # FIN initiatives: A, B, E embedded, G planned. Survey FIN: 2 pairs.
    assert rows["frameworks"]["embedded_total"] == "3"
    assert rows["frameworks"]["pilot_total"] == "0"
    assert rows["frameworks"]["survey_percent"] == "50.0"
    assert rows["leadership"]["survey_percent"] == "100.0"
    assert rows["frameworks"]["reference_percent"] == "73.0"


def test_other_questions_use_their_own_tag_list(client, cases):
    tag(cases["A"], "objectives", "quality")
    tag(cases["D"], "barriers", "resources")
    reasons = {r["item"]: r for r in csv_dicts(client.get(URL + "?format=csv&question=reasons"))}
    assert reasons["quality"]["embedded_with_item"] == "1"
    assert reasons["quality"]["reference_percent"] == "60.0"
    assert reasons["quality"]["survey_percent"] == ""  # nobody answered `reasons`
    barriers = {r["item"]: r for r in csv_dicts(client.get(URL + "?format=csv&question=barriers"))}
    assert barriers["resources"]["pilot_with_item"] == "1"
    assert barriers["resources"]["embedded_with_item"] == "0"


def test_page_has_a_sentence_per_item_and_the_same_numbers(client, cases):
    page = client.get(URL).content.decode()
    assert (
        "Clear accountability and financial frameworks: 100% of embedded initiatives vs 67% of "
        "pilots; 67% of survey respondents call it critical (OECD published: 73%)."
    ) in page
    assert "33.3" in page
    assert "-8.3" in page
    assert "<svg" in page
    assert "published initiatives that are not archived" in page


def test_empty_database_renders_dashes(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Clear accountability and financial frameworks: no embedded initiative or pilot" in page
    rows = csv_dicts(client.get(URL + "?format=csv"))
    assert {row["embedded_percent"] for row in rows} == {""}
    assert {row["embedded_total"] for row in rows} == {"0"}


@pytest.mark.parametrize(
    "query", ["wave=NOPE", "question=colour", "stage_on=2024-13-01", "country=ZZZ"]
)
def test_bad_parameters_get_400(client, cases, query):
    assert client.get(f"{URL}?{query}").status_code == 400


def test_every_csv_number_is_in_the_page_row(client, cases):
    import re

    page = client.get(URL + "?stage_on=2024-06-30").content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    html_rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    csv_rows_ = csv_dicts(client.get(URL + "?format=csv&stage_on=2024-06-30"))
    assert len(html_rows) == len(csv_rows_) == 4
    # The page lists the items as its chart does (largest embedded share first); the CSV
    # in the items' own order. Match them by label.
    shares = [float(row["embedded_percent"] or -1) for row in csv_rows_]
    assert shares != sorted(shares, reverse=True) or len(set(shares)) == 1
    by_label = {row["item_label"]: row for row in csv_rows_}
    labels = [re.search(r'<th scope="row">([^<]*)</th>', html).group(1) for html in html_rows]
    page_shares = [float(by_label[label]["embedded_percent"] or -1) for label in labels]
    assert page_shares == sorted(page_shares, reverse=True)
    for html, row in zip(html_rows, [by_label[label] for label in labels], strict=True):
        cells = re.findall(r'<td class="num">([^<]*)</td>', html)
        shown = [cell.strip() for cell in cells]
        expected = [
            row["embedded_with_item"],
            row["embedded_total"],
            f"{row['embedded_percent']}%" if row["embedded_percent"] else "—",
            row["pilot_with_item"],
            row["pilot_total"],
            f"{row['pilot_percent']}%" if row["pilot_percent"] else "—",
            row["difference_points"] or "—",
            f"{row['survey_percent']}%" if row["survey_percent"] else "—",
            f"{row['reference_percent']}%" if row["reference_percent"] else "—",
        ]
        assert shown == expected
        assert row["item_label"] in html


def test_french_page_uses_french_labels_and_the_same_numbers(client, cases):
    page = client.get("/fr/reports/maturity/indicators/").content.decode()
    assert "Cadres clairs de responsabilité et de financement" in page
    assert "66,7%" in page  # the pilot share, with a French decimal comma
