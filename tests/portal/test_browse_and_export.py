"""The public list, the case page, the CSV export and the codebook."""

import re

import pytest
from django.urls import reverse

from initiatives.models import BudgetFramework, Organisation, ReviewStatus
from tests.factories import OrganisationFactory, add_participation, make_initiative
from tests.portal.helpers import csv_rows, item_pk


def _published(**fields):
    return make_initiative(review_status=ReviewStatus.PUBLISHED, **fields)


def test_the_list_filters_by_the_url_and_keeps_the_filters_in_the_form(client, db):
    fin = _published(title="Finnish one")
    can = _published(title="Canadian one", country_id="CAN", sector_id="07")
    page = client.get(reverse("initiatives:list"), {"country": "CAN"}).content.decode()
    assert can.reference in page
    assert fin.reference not in page
    assert '<option value="CAN" selected>' in page
    page = client.get(reverse("initiatives:list"), {"sector": "03"}).content.decode()
    assert fin.reference in page
    assert can.reference not in page
    assert re.search(r'name="sector" value="03"[^>]*checked', page)


def test_the_list_filters_by_partner_and_tags_and_search(client, db):
    walks = _published(title="Night walks")
    add_participation(walks, "deliver", "citizen")
    walks.objectives.add(item_pk("reasons", "quality"))
    other = _published(title="Budget circle")
    add_participation(other, "design", "professional")
    url = reverse("initiatives:list")
    assert walks.reference in client.get(url, {"partner_type": "citizen"}).content.decode()
    assert other.reference not in client.get(url, {"partner_type": "citizen"}).content.decode()
    assert walks.reference in client.get(url, {"objective": "quality"}).content.decode()
    assert other.reference not in client.get(url, {"objective": "quality"}).content.decode()
    assert other.reference in client.get(url, {"q": "budget"}).content.decode()
    assert walks.reference not in client.get(url, {"q": "budget"}).content.decode()


def test_the_list_filters_verified_organisations(client, db):
    verified = _published(organisation=OrganisationFactory(verified=True))
    plain = _published(organisation=OrganisationFactory())
    page = client.get(reverse("initiatives:list"), {"verified": "true"}).content.decode()
    assert verified.reference in page
    assert plain.reference not in page


def test_the_list_sorts_by_title_and_paginates(client, db):
    for letter in "CAB":
        _published(title=f"{letter} initiative")
    for number in range(22):
        _published(title=f"Z {number:02d}")
    response = client.get(reverse("initiatives:list"), {"ordering": "title"})
    titles = [initiative.title for initiative in response.context["initiatives"]]
    assert titles[:3] == ["A initiative", "B initiative", "C initiative"]
    assert len(titles) == 20
    page = response.content.decode()
    assert "ordering=title&amp;page=2" in page
    second = client.get(reverse("initiatives:list"), {"ordering": "title", "page": 2})
    assert len(second.context["initiatives"]) == 5


def _many(count):
    organisation = OrganisationFactory()
    for number in range(count):
        initiative = _published(title=f"Initiative {number}", organisation=organisation)
        add_participation(initiative, "design", "citizen")
        add_participation(initiative, "deliver", "cso")


@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_the_list_costs_the_same_number_of_queries_whatever_the_page_size(
    client, member, role, django_assert_num_queries
):
    _many(60)
    if role == "member":
        client.force_login(member)
    url = reverse("initiatives:list")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (20, 50):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"per_page": size})
        assert len(response.context["initiatives"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 20


def test_the_export_costs_a_constant_number_of_queries(client, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _many(5)
    with CaptureQueriesContext(connection) as few:
        rows = csv_rows(client.get(reverse("initiatives:export")))
    assert len(rows) == 5
    _many(40)
    with CaptureQueriesContext(connection) as many:
        rows = csv_rows(client.get(reverse("initiatives:export")))
    assert len(rows) == 45
    assert len(many) == len(few)


def test_the_export_has_codes_labels_and_multi_value_cells(client, db):
    initiative = _published(title="Night walks", organisation=OrganisationFactory(verified=True))
    add_participation(initiative, "deliver", "professional", "collective")
    add_participation(initiative, "design", "citizen", "group")
    initiative.objectives.add(item_pk("reasons", "quality"), item_pk("reasons", "involvement"))
    BudgetFramework.objects.create(initiative=initiative, amount=1000, currency="EUR")
    response = client.get(reverse("initiatives:export"))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.streaming
    (row,) = csv_rows(response)
    assert row["reference"] == initiative.reference
    assert (row["country"], row["country_name"]) == ("FIN", "Finland")
    assert (row["sector"], row["sector_label"]) == ("03", "Public order and safety")
    assert (row["stage"], row["stage_label"]) == ("planned", "Planned")
    assert row["participation"] == "design:citizen|deliver:professional"
    assert row["participation_levels"] == "design:citizen:group|deliver:professional:collective"
    assert row["objectives"] == "involvement|quality"
    assert row["objectives_labels"] == (
        "Increase the involvement of citizens|Achieve better quality service delivery"
    )
    assert row["organisation_verified"] == "yes"
    assert row["budget"] == "1000.00"
    assert row["currency"] == "EUR"


def test_the_export_follows_the_lists_filters(client, db):
    fin = _published()
    can = _published(country_id="CAN")
    rows = csv_rows(client.get(reverse("initiatives:export"), {"country": "CAN"}))
    assert [row["reference"] for row in rows] == [can.reference]
    assert fin.reference not in {row["reference"] for row in rows}


def test_the_export_neutralises_formulas(client, db):
    _published(title='=HYPERLINK("http://evil")', summary="+1 more")
    (row,) = csv_rows(client.get(reverse("initiatives:export")))
    assert row["title"].startswith("'=")
    assert row["summary"] == "'+1 more"


def test_the_list_links_to_the_export_with_the_current_filters(client, db):
    _published()
    page = client.get(reverse("initiatives:list"), {"country": "FIN", "stage": "planned"})
    assert 'href="/initiatives/export.csv?country=FIN&amp;stage=planned"' in page.content.decode()


def test_the_codebook_explains_every_column_and_every_code(client, db):
    export = b"".join(client.get(reverse("initiatives:export")).streaming_content).decode()
    export_header = export.splitlines()[0].split(",")
    rows = csv_rows(client.get(reverse("initiatives:codebook")))
    columns = [
        row["column"] for row in rows if not row["code"] and not row["column"].startswith("file:")
    ]
    assert columns == export_header
    files = {row["column"]: row["meaning"] for row in rows if row["column"].startswith("file:")}
    assert "byte order mark" in files["file:initiatives-spreadsheet.csv"]
    assert "Text Import" in files["file:initiatives-spreadsheet.csv"]
    assert set(files) == {
        "file:initiatives.csv",
        "file:initiatives-spreadsheet.csv",
        "file:initiatives.xlsx",
    }
    assert all(row["meaning"] for row in rows if not row["code"])
    meanings = {row["column"]: row["meaning"] for row in rows if not row["code"]}
    # The columns an import reads past say so, and which column to edit instead.
    assert meanings["participation"].endswith(
        "Not read by the import: edit participation_levels instead. A row that changes this "
        "cell is refused."
    )
    assert meanings["review_status"].endswith(
        "Not read by the import: coprod writes it. A row that changes this cell is refused."
    )
    # It may change while the record's version does not (the organisation verified since).
    assert meanings["organisation_verified"].endswith("Not read by the import: coprod writes it.")
    assert "Not read by the import" not in meanings["participation_levels"]
    codes = {(row["column"], row["code"]): row["label"] for row in rows if row["code"]}
    assert codes[("stage", "embedded")] == "Embedded"
    assert codes[("sector", "07")] == "Health"
    assert codes[("country", "CAN")] == "Canada"
    assert codes[("factors", "frameworks")] == "Clear accountability and financial frameworks"
    assert codes[("participation:partner_type", "cso")] == "Civil-society organisation"


def test_the_codebook_comes_as_a_workbook_with_codes_as_text(client, db):
    import io

    import openpyxl

    response = client.get(reverse("initiatives:codebook_xlsx"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book["codebook"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]

    assert rows[0] == ["column", "code", "label", "meaning"]
    assert ["sector", "07", "Health", None] in rows
    csv_count = len(csv_rows(client.get(reverse("initiatives:codebook"))))
    assert len(rows) - 1 == csv_count
    assert sheet.freeze_panes == "A2"
    page = client.get(reverse("initiatives:list")).content.decode()
    assert f'href="{reverse("initiatives:codebook_xlsx")}"' in page


def test_the_case_page_shows_the_matrix_timeline_and_frameworks(client, published):
    BudgetFramework.objects.create(initiative=published, amount=5000, currency="EUR")
    page = client.get(published.get_absolute_url()).content.decode()
    assert "Who does what" in page
    assert '<th scope="row">Design</th>' in page
    assert "Maturity timeline" in page
    assert "5,000.00 EUR" in page or "5000.00 EUR" in page
    assert published.organisation.name in page


def test_an_archived_initiative_is_gone_from_the_public_site(client, published, staff):
    from initiatives import services

    services.initiative_archive(initiative=published, by=staff, expected_version=published.version)
    assert client.get(published.get_absolute_url()).status_code == 404
    assert published.reference not in client.get(reverse("initiatives:list")).content.decode()
    assert Organisation.objects.exists()


def test_a_bad_filter_value_is_explained_not_exported(client, db):
    response = client.get(reverse("initiatives:export"), {"stage": "sideways"})
    assert response.status_code == 400
    assert "sideways" in response.content.decode()


def test_the_home_page_counts_published_pilots_and_embedded(client, db):
    _published(stage="pilot")
    _published(stage="embedded")
    make_initiative(stage="embedded")  # a draft is not counted
    response = client.get(reverse("initiatives:home"))
    assert response.context["counts"] == {"total": 2, "pilot": 1, "embedded": 1}


def test_staff_exports_are_recorded_in_the_security_log(client, staff):
    from initiatives.models import SecurityEvent

    client.force_login(staff)
    b"".join(client.get(reverse("initiatives:export")).streaming_content)
    assert SecurityEvent.objects.filter(kind="data_export", user=staff).exists()
