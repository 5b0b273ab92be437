"""The register's exports: everything needed to rebuild a record, in the list's order, as
CSV for programs, CSV with a BOM for spreadsheets, and XLSX with typed cells."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from initiatives import services
from initiatives.models import AccountabilityFramework, BudgetFramework, Stage
from tests.factories import make_initiative

pytestmark = pytest.mark.django_db

D = datetime.date


def body(response):
    return b"".join(response.streaming_content)


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(body(response).decode("utf-8-sig"))))


def workbook(response):
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return openpyxl.load_workbook(io.BytesIO(body(response)))


@pytest.fixture
def register(staff):
    pilot = make_initiative(
        by=staff,
        title="=1+1",
        stage=Stage.EMBEDDED,
        stage_dates={
            Stage.PLANNED: D(2019, 3, 1),
            Stage.PILOT: D(2020, 1, 15),
            Stage.EMBEDDED: D(2022, 6, 1),
        },
        review_status="published",
    )
    AccountabilityFramework.objects.create(
        initiative=pilot, accountable_body="Council", reporting_line="Mayor", notes="Yearly"
    )
    BudgetFramework.objects.create(
        initiative=pilot,
        amount=Decimal("1234.50"),
        currency="EUR",
        funding_sources="Café fund; city",
        funded_beyond_pilot=True,
        citizen_effort="Walks",
    )
    other = make_initiative(by=staff, title="00123", review_status="published")
    return pilot, other


def test_the_csv_carries_the_stage_history_funding_frameworks_and_version(client, register):
    pilot, _other = register
    rows = {row["reference"]: row for row in csv_rows(client.get(reverse("initiatives:export")))}
    row = rows[pilot.reference]

    assert row["stage_history"] == "planned:2019-03-01|pilot:2020-01-15|embedded:2022-06-01"
    assert row["funding_sources"] == "Café fund; city"
    assert row["funded_beyond_pilot"] == "yes"
    assert row["reporting_line"] == "Mayor"
    assert row["accountability_notes"] == "Yearly"
    assert row["citizen_effort"] == "Walks"
    assert row["description"] == pilot.description
    assert row["version"] == str(pilot.version)


@pytest.mark.parametrize("url", ["initiatives:export", "initiatives:export_xlsx"])
def test_the_export_follows_the_lists_sort_order(client, staff, url):
    for title in ("Beta", "Alpha", "Gamma"):
        make_initiative(by=staff, title=title, review_status="published")

    def titles(ordering):
        response = client.get(reverse(url), {"ordering": ordering} if ordering else {})
        if url.endswith("xlsx"):
            sheet = workbook(response).active
            column = [cell.value for cell in sheet[1]].index("title")
            return [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)]
        return [row["title"] for row in csv_rows(response)]

    assert titles("title") == ["Alpha", "Beta", "Gamma"]
    assert titles("-title") == ["Gamma", "Beta", "Alpha"]
    # The list's default: most recently updated first.
    assert titles("") == ["Gamma", "Alpha", "Beta"]
    listed = client.get(reverse("initiatives:list"), {"ordering": "-title"})
    assert [i.title for i in listed.context["initiatives"]] == ["Gamma", "Beta", "Alpha"]


def test_the_spreadsheet_csv_starts_with_a_bom_and_the_plain_one_does_not(client, register):
    plain = body(client.get(reverse("initiatives:export")))
    bom = body(client.get(reverse("initiatives:export_spreadsheet")))

    assert not plain.startswith(b"\xef\xbb\xbf")
    assert bom.startswith(b"\xef\xbb\xbf")
    assert bom[3:] == plain


def test_the_xlsx_has_typed_cells_and_never_a_formula(client, register):
    pilot, _other = register
    response = client.get(reverse("initiatives:export_xlsx"), {"ordering": "reference"})
    sheet = workbook(response).active

    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    first, second = rows
    assert first["reference"].value == pilot.reference
    # Text stays text: no formula, no apostrophe, leading zeros kept.
    assert first["title"].data_type == "s"
    assert first["title"].value == "=1+1"
    assert second["title"].data_type == "s"
    assert second["title"].value == "00123"
    assert first["sector"].data_type == "s"
    assert first["sector"].value == "03"
    assert first["sector_label"].value  # the label beside the code
    # Numbers and dates are typed.
    assert first["budget"].data_type == "n"
    assert first["budget"].value == 1234.5
    assert first["version"].value == pilot.version
    assert first["start_date"].is_date
    assert first["start_date"].value == datetime.datetime(2024, 1, 15)
    assert first["updated_at"].is_date
    assert first["funded_beyond_pilot"].value is True
    assert first["stage_history"].value == (
        "planned:2019-03-01|pilot:2020-01-15|embedded:2022-06-01"
    )


def test_the_xlsx_follows_the_same_filters_as_the_csv(client, register):
    pilot, _other = register
    query = {"stage": "embedded"}
    csv_refs = [
        row["reference"] for row in csv_rows(client.get(reverse("initiatives:export"), query))
    ]
    sheet = workbook(client.get(reverse("initiatives:export_xlsx"), query)).active
    xlsx_refs = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]

    assert csv_refs == xlsx_refs == [pilot.reference]


def test_every_report_table_downloads_as_xlsx(client, register):
    page = client.get(reverse("reports:maturity"))
    urls = page.context["file_urls"]
    assert urls
    for name, links in urls.items():
        csv_response = client.get(reverse("reports:maturity") + links["csv"])
        xlsx_response = client.get(reverse("reports:maturity") + links["xlsx"])
        assert xlsx_response.status_code == 200, name
        csv_table = list(csv.reader(io.StringIO(body(csv_response).decode())))
        sheet = workbook(xlsx_response).active
        assert sheet.max_row == len(csv_table), name
        assert [cell.value for cell in sheet[1]] == csv_table[0], name


def test_the_survey_records_download_as_xlsx(staff_client, db):
    from survey.models import Wave
    from tests.factories import answer

    answer(Wave.objects.get(code="OECD-2010"), "FIN", "r1", "07", "barriers", {"resources": True})
    response = staff_client.get(reverse("admin:survey_response_export"), {"format": "xlsx"})
    sheet = workbook(response).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, list(sheet[2]), strict=True))
    assert row["sector"].value == "07"
    assert row["sector"].data_type == "s"
    assert True in [cell.value for cell in sheet[2]]


def test_each_wave_in_the_admin_offers_its_records_as_csv_and_xlsx(staff_client):
    page = staff_client.get(reverse("admin:survey_wave_changelist")).content.decode()
    export = reverse("admin:survey_response_export")

    assert f'href="{export}?wave=OECD-2010"' in page
    assert f'href="{export}?wave=OECD-2010&amp;format=xlsx"' in page


def test_the_services_keep_the_history_the_export_shows(client, staff, register):
    pilot, _other = register
    services.stage_history_correct(
        entry=pilot.stage_changes.get(to_stage=Stage.PILOT),
        by=staff,
        on=D(2020, 2, 1),
        reason="Date in the minutes",
    )
    rows = {row["reference"]: row for row in csv_rows(client.get(reverse("initiatives:export")))}
    assert rows[pilot.reference]["stage_history"] == (
        "planned:2019-03-01|pilot:2020-02-01|embedded:2022-06-01"
    )


def test_the_survey_indicator_table_downloads_as_xlsx(client, db):
    query = {"wave": "OECD-2010", "question": "barriers"}
    csv_table = list(
        csv.reader(io.StringIO(body(client.get(reverse("survey:indicators_csv"), query)).decode()))
    )
    response = client.get(reverse("survey:indicators_csv"), {**query, "format": "xlsx"})
    sheet = workbook(response).active
    assert [cell.value for cell in sheet[1]] == csv_table[0]
    assert sheet.max_row == len(csv_table)
