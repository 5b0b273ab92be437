"""Property: whatever text people type into coprod, every CSV it produces parses back to
exactly that text, and a cell that a spreadsheet would run as a formula (a leading
= + - @, tab, CR or LF) arrives with a leading apostrophe instead.

Arbitrary text goes into every exported text field (initiative, organisation, frameworks,
vocabulary labels, country and sector names, survey respondents), then every CSV of
coprod is downloaded: the initiatives export and its codebook, the admin's export
action, the survey records (staff download and `export_survey`), the indicator CSV and
the CSV twin of every table of every report.
"""

import csv
import io
import re
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initiatives.models import AccountabilityFramework, Initiative, Organisation, OrganisationKind
from survey.models import Country, Item, Question, Sector, Wave
from tests.factories import add_participation, answer, make_initiative

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

# Any text a browser can send and PostgreSQL can store: no NUL, no lone surrogates.
_characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_dangerous_starts = st.sampled_from(
    [
        *TRIGGERS,
        '=HYPERLINK("http://x")',
        "+cmd|' /C calc'!A0",
        "@SUM(1)",
        "-2+3",
        "=1,2",
        "'=typed with its apostrophe",
        "''+1",
        "'plain",
    ]
)


def texts(max_size, min_size=0):
    plain = st.text(_characters, min_size=min_size, max_size=max_size)
    risky = st.tuples(_dangerous_starts, plain).map(lambda pair: "".join(pair)[:max_size])
    return st.one_of(risky, plain).filter(lambda text: len(text) >= min_size)


def expected_cell(text):
    """How a text value must read back from a coprod CSV (written independently of the
    writer under test, so that the test cannot agree with a wrong writer)."""
    return "'" + text if text.lstrip("'")[:1] in TRIGGERS else text


def parse(body):
    text = body.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert rows, "an empty file"
    header, data = rows[0], rows[1:]
    for row in data:
        assert len(row) == len(header), "a row with a different number of cells than the header"
    return header, [dict(zip(header, row, strict=True)) for row in data], rows


def assert_no_live_formula(rows, where):
    for row in rows:
        for cell in row:
            if cell.startswith(TRIGGERS) and not NUMBER.match(cell):
                pytest.fail(f"{where}: a cell a spreadsheet would run: {cell[:40]!r}")


def download(client, url, **kwargs):
    response = client.post(url, **kwargs) if kwargs else client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"].startswith("text/csv"), url
    return b"".join(response.streaming_content) if response.streaming else response.content


REPORTS = {
    "/reports/maturity/": ("stages", "sectors", "countries", "conversion", "time", "beyond"),
    "/reports/evidence/": ("stages", "sectors", "money"),
    "/reports/readiness/": ("pilots",),
    "/reports/countries/FIN/": ("indicators", "sectors", "frameworks"),
}

FIELD_NAMES = (
    "title",
    "summary",
    "lead_public_body",
    "organisation",
    "accountable_body",
    "item_label",
    "respondent",
    "country_name",
    "sector_label",
)
FIELDS = st.fixed_dictionaries(
    {
        "title": texts(200, min_size=1),
        "summary": texts(500),
        "lead_public_body": texts(200),
        "organisation": texts(200, min_size=1),
        "accountable_body": texts(200),
        "item_label": texts(200, min_size=1),
        "respondent": texts(200, min_size=1).filter(lambda text: text.strip() == text),
        "country_name": texts(200, min_size=1),
        "sector_label": texts(200, min_size=1),
    }
)


def _record(values, staff):
    """Put the generated texts everywhere coprod exports text from."""
    # Both the untranslated column and the English one: some exports read one, some the other.
    name, label = values["country_name"], values["sector_label"]
    Country.objects.rewrite(False).filter(code="FIN").update(name=name, name_en=name)
    Sector.objects.rewrite(False).filter(code="03").update(label=label, label_en=label)
    wave = Wave.objects.create(code="PROPERTY", title="Property test", year=2024)
    barriers = Question.objects.get(code="barriers")
    item = Item.objects.create(
        question=barriers, code="prop_item", label=values["item_label"], order=99
    )
    organisation = Organisation.objects.create(
        name=values["organisation"],
        kind=OrganisationKind.CITIZENS_GROUP,
        country=Country.objects.get(code="FIN"),
    )
    initiative = make_initiative(
        by=staff,
        organisation=organisation,
        title=values["title"],
        summary=values["summary"],
        lead_public_body=values["lead_public_body"],
        review_status="published",
        stage="pilot",
    )
    initiative.barriers.add(item)
    add_participation(initiative)
    AccountabilityFramework.objects.create(
        initiative=initiative, accountable_body=values["accountable_body"]
    )
    answer(wave, "FIN", values["respondent"], "03", "barriers", {"prop_item": True})
    return initiative, item


def _row(rows, column, value, where):
    matches = [row for row in rows if row[column] == value]
    assert len(matches) == 1, f"{where}: no single row with {column}={value!r}"
    return matches[0]


def _checker(values, checked):
    def check(where, body, expectations=(), key=None):
        _header, rows, raw = parse(body)
        assert_no_live_formula(raw, where)
        if expectations:
            row = _row(rows, key[0], key[1], where)
            for column, field in expectations:
                assert row[column] == expected_cell(values[field]), f"{where} {column}"
        checked.append(where)

    return check


def _check_exports(values, staff, initiative, item):
    client = Client()
    client.force_login(staff)
    checked = []
    check = _checker(values, checked)
    check(
        "initiatives export",
        download(client, "/initiatives/export.csv"),
        [
            ("title", "title"),
            ("summary", "summary"),
            ("lead_public_body", "lead_public_body"),
            ("organisation", "organisation"),
            ("accountable_body", "accountable_body"),
            ("country_name", "country_name"),
            ("sector_label", "sector_label"),
            ("barriers_labels", "item_label"),
        ],
        key=("reference", initiative.reference),
    )
    check("codebook", download(client, "/initiatives/codebook.csv"))
    check(
        "admin export action",
        download(
            client,
            "/admin/initiatives/initiative/",
            data={"action": "export_csv", "_selected_action": [initiative.pk]},
        ),
        [
            ("title", "title"),
            ("owner organisation", "organisation"),
            ("lead public body", "lead_public_body"),
            ("country", "country_name"),
            ("sector", "sector_label"),
        ],
        key=("reference", initiative.reference),
    )
    check(
        "survey records download",
        download(client, "/admin/survey/response/export/?wave=PROPERTY"),
        [("respondent", "respondent")],
        key=("item", "prop_item"),
    )
    out = io.StringIO()
    call_command("export_survey", wave="PROPERTY", stdout=out)
    check(
        "export_survey command",
        out.getvalue().encode(),
        [("respondent", "respondent")],
        key=("item", "prop_item"),
    )
    query = urlencode({"wave": "PROPERTY", "question": "barriers"})
    check(
        "indicator CSV",
        download(client, f"/reports/indicators.csv?{query}"),
        [("item_label", "item_label")],
        key=("item", "prop_item"),
    )
    check(
        "indicator CSV by country",
        download(client, f"/reports/indicators.csv?{query}&by=country"),
    )
    check(
        "maturity against the indicators",
        download(client, f"/reports/maturity/indicators/?{query}&format=csv&table=items"),
        [("item_label", "item_label")],
        key=("item", "prop_item"),
    )
    return checked


def _check_reports(values, staff):
    client = Client()
    client.force_login(staff)
    checked = []
    check = _checker(values, checked)
    for page, tables in REPORTS.items():
        for table in tables:
            check(f"{page} {table}", download(client, f"{page}?format=csv&table={table}"))
    return checked


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=FIELDS)
def test_every_export_reads_back_what_was_typed_with_formulas_neutralised(staff, values):
    with transaction.atomic():
        initiative, item = _record(values, staff)
        checked = _check_exports(values, staff, initiative, item)
        transaction.set_rollback(True)
    assert len(checked) == 8


# The report tables are many and slow to compute, so they get one example per trigger
# character (in every text field at once) rather than a search.
@pytest.mark.django_db
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_report_csv_neutralises_formulas_in_vocabulary_and_names(staff, trigger):
    values = {field: f"{trigger}SUM(1) {field}" for field in FIELD_NAMES}
    with transaction.atomic():
        _record(values, staff)
        checked = _check_reports(values, staff)
        transaction.set_rollback(True)
    assert len(checked) == sum(len(tables) for tables in REPORTS.values())


@pytest.mark.django_db
def test_the_property_sees_a_formula_that_slipped_through(staff, monkeypatch):
    """The check above fails when a writer forgets to neutralise (so it can fail)."""
    monkeypatch.setattr("core.csvfiles.neutralise", lambda value: value)
    values = {
        "title": '=HYPERLINK("http://evil")',
        "summary": "",
        "lead_public_body": "",
        "organisation": "Group",
        "accountable_body": "",
        "item_label": "Label",
        "respondent": "r1",
        "country_name": "Finland",
        "sector_label": "Safety",
    }
    with transaction.atomic():
        initiative, item = _record(values, staff)
        with pytest.raises(pytest.fail.Exception, match="a spreadsheet would run"):
            _check_exports(values, staff, initiative, item)
        transaction.set_rollback(True)
    assert not Initiative.objects.filter(title=values["title"]).exists()
