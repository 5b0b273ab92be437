"""Whole registers in: export → import changes nothing, edited cells change exactly those,
bad rows are refused with their line and column and nothing is written, stale versions are
refused; the same verdicts from the command, the admin page and the API."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from initiatives import services
from initiatives.imports import import_initiatives
from initiatives.models import (
    AccountabilityFramework,
    ApiToken,
    BudgetFramework,
    Initiative,
    Stage,
    StageChange,
)
from tests.factories import add_participation, make_initiative

pytestmark = pytest.mark.django_db

D = datetime.date


def body(response):
    return b"".join(response.streaming_content)


@pytest.fixture
def register(staff, organisation):
    first = make_initiative(
        by=staff,
        title="=1+1",
        summary="-5 barriers, café",
        organisation=organisation,
        stage=Stage.EMBEDDED,
        stage_dates={
            Stage.PLANNED: D(2019, 3, 1),
            Stage.PILOT: D(2020, 1, 15),
            Stage.EMBEDDED: D(2022, 6, 1),
        },
        participants=120,
    )
    add_participation(first, phase="design", partner_type="citizen", level="group")
    participation = first.participations.get()
    participation.role = "Co-design workshops"
    participation.save()
    AccountabilityFramework.objects.create(
        initiative=first, accountable_body="Council", roles_written=True, notes="Line one\nTwo"
    )
    BudgetFramework.objects.create(
        initiative=first,
        amount=Decimal("1234.50"),
        currency="EUR",
        funding_sources="City fund",
        funded_beyond_pilot=True,
        citizen_hours=Decimal("12.5"),
    )
    second = make_initiative(by=staff, title="00123", sector=first.sector)
    return first, second


@pytest.fixture
def exporter(staff):
    """Staff read every record, drafts included, so the export holds the whole register."""
    client = Client()
    client.force_login(staff)
    return client


def export(client, fmt):
    url = reverse("initiatives:export_xlsx" if fmt == "xlsx" else "initiatives:export")
    return body(client.get(url, {"ordering": "reference"}))


def state():
    """Everything an import could change, for every initiative."""
    result = {}
    for initiative in Initiative.objects.order_by("reference"):
        result[initiative.reference] = (
            initiative.version,
            [(f.name, getattr(initiative, f.attname)) for f in Initiative._meta.concrete_fields],
            sorted(initiative.participations.values_list("phase", "partner_type", "level", "role")),
            list(AccountabilityFramework.objects.filter(initiative=initiative).values()),
            list(BudgetFramework.objects.filter(initiative=initiative).values()),
            list(initiative.stage_changes.values_list("to_stage", "changed_on", "confirmed_at")),
            {f: sorted(getattr(initiative, f).values_list("pk", flat=True)) for f in TAGS},
        )
    return result


TAGS = ("objectives", "barriers", "barriers_addressed", "factors")


def upload(content, fmt):
    name = f"register.{fmt}"
    return SimpleUploadedFile(name, content)


def csv_edit(content, edits):
    """Change cells of a CSV export: {(row index, column): value}."""
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    header = list(rows[0].keys()) if rows else []
    for (index, column), value in edits.items():
        rows[index][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_edit(content, edits):
    """Change cells of an XLSX export in the sheet, as a person would in a spreadsheet."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    for (index, column), value in edits.items():
        cell = sheet.cell(row=index + 2, column=header.index(column) + 1, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # typed as text, as a spreadsheet does for a text cell
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EDIT = {"csv": csv_edit, "xlsx": xlsx_edit}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_with_no_edits_changes_nothing(exporter, staff, register, fmt):
    before = state()
    content = export(exporter, fmt)

    preview = import_initiatives(upload(content, fmt), by=staff, dry_run=True)
    result = import_initiatives(upload(content, fmt), by=staff)

    assert preview.ok, preview.errors
    assert result.ok, result.errors
    assert len(result.unchanged) == 2
    assert not result.created
    assert not result.updated
    assert len(preview.unchanged) == 2
    assert state() == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_edited_cells_change_exactly_those_with_history_by_the_importer(
    exporter, staff, register, fmt
):
    first, second = register
    before = state()
    content = EDIT[fmt](
        export(exporter, fmt),
        {
            (0, "funding_sources"): "City fund; EU",
            (0, "stage_history"): "planned:2019-03-01|pilot:2020-02-01|embedded:2022-06-01",
            (1, "title"): "=SUM(A1:A3)",
        },
    )

    preview = import_initiatives(upload(content, fmt), by=staff, dry_run=True)
    assert [ref for _line, ref in preview.updated] == [first.reference, second.reference]
    assert state() == before  # the preview wrote nothing

    result = import_initiatives(upload(content, fmt), by=staff)
    assert result.ok, result.errors
    assert len(result.updated) == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.budget.funding_sources == "City fund; EU"
    assert first.budget.amount == Decimal("1234.50")
    assert second.title == "=SUM(A1:A3)"
    assert list(first.stage_changes.values_list("to_stage", "changed_on")) == [
        ("planned", D(2019, 3, 1)),
        ("pilot", D(2020, 2, 1)),
        ("embedded", D(2022, 6, 1)),
    ]
    # Everything else is as it was, the participation's role included.
    after = state()
    assert after[first.reference][2] == before[first.reference][2]
    assert after[first.reference][3] == before[first.reference][3]
    assert after[first.reference][6] == before[first.reference][6]
    assert first.title == "=1+1"
    assert first.summary == "-5 barriers, café"
    assert second.history.latest().history_user == staff
    assert first.budget.history.latest().history_user == staff
    removed = StageChange.history.get(history_type="-", to_stage="pilot")
    assert removed.history_user == staff


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rows_without_a_reference_create_initiatives_with_their_history(
    exporter, staff, register, fmt
):
    _first, _second = register
    content = EDIT[fmt](export(exporter, fmt), {(1, "reference"): "", (1, "version"): ""})

    result = import_initiatives(upload(content, fmt), by=staff)

    assert result.ok, result.errors
    [(_line, reference)] = result.created
    created = Initiative.objects.get(reference=reference)
    assert created.title == "00123"
    assert created.stage == Stage.PLANNED


def test_progress_is_told_every_row_read(exporter, staff, register, monkeypatch):
    monkeypatch.setattr("initiatives.imports.PROGRESS_EVERY", 1)
    counts = []

    result = import_initiatives(
        upload(export(exporter, "csv"), "csv"), by=staff, dry_run=True, progress=counts.append
    )

    assert result.ok, result.errors
    assert sum(counts) == result.rows == 2
    assert counts == [1, 1]


def test_a_stale_version_is_refused_and_nothing_is_written(exporter, staff, register):
    first, _second = register
    content = csv_edit(export(exporter, "csv"), {(1, "title"): "Renamed"})
    services.initiative_update(
        initiative=first, by=staff, expected_version=first.version, fields={"summary": "Newer"}
    )
    before = state()

    result = import_initiatives(upload(content, "csv"), by=staff)

    assert not result.ok
    [problem] = result.errors
    assert (problem.line, problem.column) == (2, "version")
    assert "Stale edit" in problem.message
    assert state() == before


BAD_ROWS = {
    "unknown country code": ({"country": "XXX"}, "country", "Unknown code “XXX”"),
    # The columns the import does not read: an edit there is refused, not lost.
    "an edited participation summary": (
        {"participation": "design:citizen|assess:citizen"},
        "participation",
        "it follows from participation_levels",
    ),
    "an edited label": ({"stage_label": "Embedded"}, "stage_label", "follows from stage_history"),
    "an edited review status": (
        {"review_status": "published"},
        "review_status",
        "coprod's workflows write it",
    ),
    "an edited timestamp": (
        {"updated_at": "2001-01-01T00:00:00+00:00"},
        "updated_at",
        "coprod's workflows write it",
    ),
    "a version never reached": ({"version": "999"}, "version", "it was never at version 999"),
    "bad date": ({"start_date": "15/01/2024"}, "start_date", "not a date"),
    "impossible history": (
        {"stage_history": "pilot:2021-01-01|planned:2020-01-01"},
        "stage_history",
        "before the earlier entry",
    ),
    "history in the future": ({"stage_history": "planned:2999-01-01"}, "stage_history", "future"),
    "stage not the last entry": ({"stage": "pilot"}, "stage", "not the last entry"),
    "unknown tag": ({"factors": "nonsense"}, "factors", "Unknown item “nonsense”"),
    "unknown participation": (
        {"participation_levels": "design:martians:group"},
        "participation_levels",
        "Unknown code “martians”",
    ),
    "missing title on a new row": (
        {"reference": "", "version": "", "title": ""},
        "title",
        "Required to create",
    ),
    # One message for the cell, not "unknown code" as well.
    "missing country on a new row": (
        {"reference": "", "version": "", "country": ""},
        "country",
        "Required to create",
    ),
    "a number with a comma": ({"budget": "1234,50"}, "budget", "not a number"),
    "an unknown reference": ({"reference": "COP-1999-9999"}, "reference", "No initiative"),
    "a model rule": (
        {"start_date": "2024-05-01", "end_date": "2024-01-01"},
        "end_date",
        "before the start date",
    ),
}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("case", BAD_ROWS)
def test_each_kind_of_bad_row_is_refused_with_its_line_and_column(
    exporter, staff, register, case, fmt
):
    edits, column, message = BAD_ROWS[case]
    content = EDIT[fmt](
        export(exporter, fmt),
        {(0, "title"): "Would be renamed", **{(1, name): value for name, value in edits.items()}},
    )
    before = state()

    result = import_initiatives(upload(content, fmt), by=staff)

    assert not result.ok
    [problem] = result.errors
    # The sheet's third row; in the CSV file the first record's notes hold a line break,
    # so the second record starts on the file's fourth line.
    line = 3 if fmt == "xlsx" else 4
    assert (problem.line, problem.column) == (line, column), problem
    assert message in problem.message
    if fmt == "xlsx":
        assert problem.where.endswith("3")
        assert problem.where[0].isalpha()
    else:
        assert problem.where == "line 4"
    assert state() == before  # all or nothing: the good row is not written either


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4\n\xff\xfe\x00binary", "not a register"),
        (b"title\n\xff\xfe\x00binary\n", "not UTF-8"),
        (b"name,colour\nrose,red\n", "not a register"),
        (b"PK\x03\x04 not really a workbook", "not a readable XLSX"),
        (b"", "empty"),
    ],
)
def test_a_file_that_is_not_a_register_is_refused(staff, content, message):
    result = import_initiatives(SimpleUploadedFile("f.csv", content), by=staff)
    assert not result.ok
    assert message in result.errors[0].message


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("f.csv", b"reference;title;country\n;A;FIN\n", "separated by semicolons"),
        ("f.csv", b"reference\ttitle\tcountry\n\tA\tFIN\n", "separated by tabs"),
        ("f.xlsx", b"\x00\x01 some bytes", "not a readable XLSX workbook"),
        (
            "f.csv",
            b'title,country\n"' + b"x" * (1 << 21) + b'",FIN\n',
            "runs on for more than 1048576 characters",
        ),
    ],
    ids=["semicolons", "tabs", "not-a-zip", "endless-value"],
)
def test_a_file_saved_the_wrong_way_is_told_what_to_do(staff, name, content, message):
    result = import_initiatives(SimpleUploadedFile(name, content), by=staff)

    assert not result.ok
    assert message in result.errors[0].message
    assert not Initiative.objects.exists()


def test_a_long_cell_gets_its_field_s_message(exporter, staff, register):
    content = csv_edit(export(exporter, "csv"), {(1, "title"): "x" * 140_000})

    result = import_initiatives(upload(content, "csv"), by=staff)

    [problem] = result.errors
    assert (problem.line, problem.column) == (4, "title")
    assert "at most" in problem.message


def test_the_export_s_sheet_is_read_wherever_it_is_in_the_workbook(exporter, staff, register):
    book = openpyxl.load_workbook(io.BytesIO(export(exporter, "xlsx")))
    notes = book.create_sheet("Notes", 0)
    notes["A1"] = "Register checked by the ministry, December"
    out = io.BytesIO()
    book.save(out)

    result = import_initiatives(upload(out.getvalue(), "xlsx"), by=staff)

    assert result.ok, result.errors
    assert len(result.unchanged) == 2


# The three doors ----------------------------------------------------------------------


def by_command(staff, content, fmt, tmp_path, dry_run=False):
    path = tmp_path / f"register.{fmt}"
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    try:
        options = ["--user", staff.username, *(["--dry-run"] if dry_run else [])]
        call_command("import_initiatives", str(path), *options, stdout=out, stderr=err)
    except CommandError:
        return "refused", err.getvalue()
    return "ok", out.getvalue()


def by_admin(staff, content, fmt, tmp_path, dry_run=False):
    client = Client()
    client.force_login(staff)
    url = reverse("admin:initiatives_initiative_import")
    response = client.post(url, {"file": upload(content, fmt)})
    if response.status_code == 400:
        return "refused", response.content.decode()
    assert response.status_code == 200
    page = response.content.decode()
    if dry_run:
        return "ok", page
    response = client.post(url, {"apply": response.context["token"]})
    return ("ok" if response.status_code == 200 else "refused"), response.content.decode()


def by_api(staff, content, fmt, tmp_path, dry_run=False):
    client = APIClient()
    _, key = ApiToken.issue(user=staff, name="import")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(
        "/api/initiatives/import/",
        {"file": upload(content, fmt), "dry_run": dry_run},
        format="multipart",
    )
    if response.status_code == 400:
        return "refused", str(response.json()["details"]["errors"])
    return "ok", str(response.json())


DOORS = {"command": by_command, "admin": by_admin, "api": by_api}


@pytest.mark.parametrize("door", DOORS)
def test_the_doors_give_the_same_verdicts(exporter, staff, register, door, tmp_path):
    first, _second = register
    good = csv_edit(export(exporter, "csv"), {(0, "funding_sources"): "EU grant"})
    bad = csv_edit(export(exporter, "csv"), {(1, "stage_history"): "embedded:2999-01-01"})

    verdict, text = DOORS[door](staff, bad, "csv", tmp_path)
    assert verdict == "refused"
    assert "in the future" in text
    assert "stage_history" in text

    verdict, _text = DOORS[door](staff, good, "csv", tmp_path)
    assert verdict == "ok"
    first.refresh_from_db()
    assert first.budget.funding_sources == "EU grant"


def test_only_staff_who_may_import_reach_the_api(member, register, exporter):
    api = APIClient()
    _, key = ApiToken.issue(user=member, name="import")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    content = export(exporter, "csv")
    response = api.post(
        "/api/initiatives/import/", {"file": upload(content, "csv")}, format="multipart"
    )
    assert response.status_code == 403


def test_the_command_records_the_importing_user_and_dry_run_writes_nothing(
    exporter, staff, register, tmp_path
):
    first, _second = register
    content = csv_edit(export(exporter, "csv"), {(0, "funding_sources"): "Regional grant"})

    verdict, text = by_command(staff, content, "csv", tmp_path, dry_run=True)
    assert verdict == "ok"
    assert "to update" in text
    first.refresh_from_db()
    assert first.budget.funding_sources == "City fund"

    verdict, _text = by_command(staff, content, "csv", tmp_path)
    first.refresh_from_db()
    assert first.budget.funding_sources == "Regional grant"
    assert first.budget.history.latest().history_user == staff


def test_a_register_exported_in_french_comes_back_unchanged(staff, register):
    """Its labels are French; they are read past like the English ones."""
    client = Client()
    client.force_login(staff)
    for fmt in ("csv", "xlsx"):
        with translation.override("fr"):
            url = reverse("initiatives:export_xlsx" if fmt == "xlsx" else "initiatives:export")
        assert url.startswith("/fr/")
        content = body(client.get(url, {"ordering": "reference"}))
        assert "Intégrée".encode() in content or fmt == "xlsx"
        before = state()

        result = import_initiatives(upload(content, fmt), by=staff)

        assert result.ok, result.errors
        assert len(result.unchanged) == 2, fmt
        assert state() == before


def test_a_csv_saved_with_windows_line_breaks_changes_nothing(exporter, staff, register):
    first, _second = register
    services.initiative_update(
        initiative=first,
        by=staff,
        expected_version=first.version,
        fields={"description": 'Alpha\nBeta "q"\n\nGamma'},
    )
    content = export(exporter, "csv").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert b"Alpha\r\nBeta" in content
    before = state()

    result = import_initiatives(upload(content, "csv"), by=staff)

    assert result.ok, result.errors
    assert len(result.unchanged) == 2
    assert state() == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_texts_typed_in_a_browser_come_back_unchanged(exporter, staff, register, fmt):
    """A browser sends a text area's line breaks as \\r\\n; a spreadsheet may not keep them."""
    first, _second = register
    services.initiative_update(
        initiative=first, by=staff, expected_version=first.version, fields={"summary": "A\r\nB"}
    )
    AccountabilityFramework.objects.filter(initiative=first).update(notes="One\r\nTwo")
    content = export(exporter, fmt)
    if fmt == "csv":
        content = content.replace(b"\r\n", b"\n")
    before = state()

    result = import_initiatives(upload(content, fmt), by=staff)

    assert result.ok, result.errors
    assert len(result.unchanged) == 2
    assert state() == before


def test_a_file_exported_before_a_vocabulary_or_badge_change_still_comes_back_unchanged(
    exporter, staff, register
):
    """What changes without the record's version moving is read past, not held against it."""
    first, _second = register
    for fmt in ("csv", "xlsx"):
        content = export(exporter, fmt)
        first.organisation.verified = not first.organisation.verified
        first.organisation.save()
        country = first.country
        country.name = f"{country.name} (renamed)"
        country.save()
        before = state()

        result = import_initiatives(upload(content, fmt), by=staff)

        assert result.ok, result.errors
        assert len(result.unchanged) == 2
        assert state() == before


def test_an_import_of_updates_reads_the_labels_once(exporter, staff, register):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    content = export(exporter, "csv")
    import_initiatives(upload(content, "csv"), by=staff, dry_run=True)  # the caches filled
    with CaptureQueriesContext(connection) as two_rows:
        import_initiatives(upload(content, "csv"), by=staff, dry_run=True)
    make_initiative(by=staff, title="A third")
    content = export(exporter, "csv")
    with CaptureQueriesContext(connection) as three_rows:
        import_initiatives(upload(content, "csv"), by=staff, dry_run=True)

    # The one more row costs its own reads (13 here), not the vocabulary or an export.
    assert len(three_rows) - len(two_rows) <= 16


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_texts_typed_with_a_leading_apostrophe_come_back_unchanged(exporter, staff, register, fmt):
    first, _second = register
    services.initiative_update(
        initiative=first,
        by=staff,
        expected_version=first.version,
        fields={"title": "'=quoted title", "summary": "'+33 kept"},
    )
    before = state()

    result = import_initiatives(upload(export(exporter, fmt), fmt), by=staff)

    assert result.ok, result.errors
    assert len(result.unchanged) == 2
    assert state() == before
