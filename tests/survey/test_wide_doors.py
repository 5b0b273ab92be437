"""Wide files and column mappings through every door: the admin (with its preview), the
command and the API, each for survey managers only."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from initiatives.roles import ANALYST, SURVEY_MANAGER
from survey.models import ColumnMapping, Response
from tests.factories import staff_in_role, token_client

pytestmark = pytest.mark.django_db

IMPORT = "/admin/survey/response/import/"
LIMESURVEY = (
    "id,submitdate,country,sector,barriers[SQ001],barriers[SQ002]\n"
    "1,2024-01-01,FIN,03,Y,\n"
    "2,2024-01-02,CAN,07,,\n"
)


def upload(text=LIMESURVEY, name="export.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.fixture
def manager_client(client):
    client.force_login(staff_in_role(SURVEY_MANAGER))
    return client


def test_admin_preview_shows_the_proposal_and_the_import_needs_no_second_upload(manager_client):
    response = manager_client.post(IMPORT, {"file": upload(), "preview": "1", "wave": "OECD-2010"})
    assert response.status_code == 200
    shown = response.context["preview"]
    assert shown.mapping.preset == "limesurvey"
    assert [(a["line"], a["item"], a["answer"]) for a in shown.answers] == [
        (2, "resources", "yes"),
        (2, "resistance", "no"),
        (3, "resources", ""),
        (3, "resistance", ""),
    ]
    html = response.content.decode()
    assert "not answered" in html
    assert "submitdate" in html  # an ignored column is named
    assert "/admin/survey/columnmapping/add/?" in response.context["save_mapping_url"]
    assert Response.objects.count() == 0
    key = response.context["form"].initial["upload"]
    back = manager_client.get(response.context["again_url"])  # after saving a mapping
    assert back.context["form"].initial["upload"] == key
    confirmed = manager_client.post(IMPORT, {"upload": key, "wave": "OECD-2010"})
    assert confirmed.status_code == 200, confirmed.context["result"].errors
    assert Response.objects.count() == 2


def test_a_kept_file_of_another_person_cannot_be_imported(manager_client):
    response = manager_client.post(IMPORT, {"file": upload(), "preview": "1"})
    key = response.context["form"].initial["upload"]
    client = Client()
    client.force_login(staff_in_role(SURVEY_MANAGER))
    refused = client.post(IMPORT, {"upload": key, "wave": "OECD-2010"})
    assert refused.status_code == 400
    assert Response.objects.count() == 0
    traversal = client.post(IMPORT, {"upload": "../../etc/passwd", "wave": "OECD-2010"})
    assert traversal.status_code == 400


def test_admin_xlsx_errors_show_the_cell(manager_client):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["id", "country", "sector", "barriers[resources]"])
    book.active.append([1, "XXX", 3, "Y"])
    buffer = io.BytesIO()
    book.save(buffer)
    file = SimpleUploadedFile("export.xlsx", buffer.getvalue())
    response = manager_client.post(IMPORT, {"file": file, "wave": "OECD-2010"})
    assert response.status_code == 400
    assert "2 (B2)" in response.content.decode()


def test_mappings_are_kept_by_survey_managers_in_the_admin(manager_client):
    response = manager_client.post(
        "/admin/survey/columnmapping/add/",
        {
            "name": "ls-2024",
            "respondent_column": "id",
            "country_column": "country",
            "sector_column": "sector",
            "skip_rows": "0",
            "columns": "barriers[SQ001] = barriers/resources",
            "yes_values": "Y",
            "no_values": "N",
            "answered": "ticked",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    bad = manager_client.post(
        "/admin/survey/columnmapping/add/",
        {
            "name": "bad",
            "columns": "x = nosuch/thing",
            "answered": "ticked",
            "skip_rows": "0",
            "respondent_column": "id",
            "country_column": "c",
            "sector_column": "s",
            "yes_values": "1",
            "no_values": "0",
        },
    )
    assert bad.status_code == 200
    assert "nosuch" in str(bad.context["adminform"].form.errors)
    analyst = Client()
    analyst.force_login(staff_in_role(ANALYST))
    assert analyst.get("/admin/survey/columnmapping/").status_code == 403
    imported = manager_client.post(
        IMPORT, {"file": upload(), "mapping": "ls-2024", "wave": "OECD-2010"}
    )
    assert imported.status_code == 200
    assert Response.objects.count() == 1  # only barriers[SQ001] is mapped


def test_command_previews_and_imports_with_a_mapping_and_a_wave(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(LIMESURVEY)
    out = io.StringIO()
    call_command("import_survey", str(path), "--preview", stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "barriers[SQ001] = barriers/resources" in text
    assert "line 3: 2 CAN 07 barriers/resources: not answered" in text
    assert Response.objects.count() == 0
    with pytest.raises(CommandError):
        call_command(
            "import_survey",
            str(path),
            "--mapping",
            "limesurvey",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    call_command(
        "import_survey",
        str(path),
        "--mapping",
        "limesurvey",
        "--wave",
        "OECD-2010",
        stdout=io.StringIO(),
    )
    assert Response.objects.count() == 2


def test_api_mappings_preview_and_import():
    manager = token_client(staff_in_role(SURVEY_MANAGER))
    preview = manager.post("/api/survey/mappings/preview/", {"file": upload()}, format="multipart")
    assert preview.status_code == 200
    proposal = preview.json()["mapping"]
    assert proposal["preset"] == "limesurvey"
    assert not proposal["saved"]
    saved = manager.post(
        "/api/survey/mappings/",
        {
            **{
                k: proposal[k]
                for k in (
                    "respondent_column",
                    "country_column",
                    "sector_column",
                    "columns",
                    "answered",
                    "yes_values",
                    "no_values",
                )
            },
            "name": "from-api",
        },
        format="json",
    )
    assert saved.status_code == 201, saved.json()
    bad = manager.patch(
        "/api/survey/mappings/from-api/", {"columns": "x = nosuch/y"}, format="json"
    )
    assert bad.status_code == 400
    assert "nosuch" in json.dumps(bad.json())
    imported = manager.post(
        "/api/survey/responses/import/",
        {"file": upload(), "mapping": "from-api", "wave": "OECD-2010"},
        format="multipart",
    )
    assert imported.status_code == 201, imported.json()
    assert imported.json()["answers"] == 2
    unknown = manager.post(
        "/api/survey/mappings/preview/", {"file": upload(), "mapping": "nope"}, format="multipart"
    )
    assert unknown.status_code == 400


def test_api_mappings_are_for_survey_managers_only():
    analyst = token_client(staff_in_role(ANALYST))
    assert analyst.get("/api/survey/mappings/").status_code == 403
    assert (
        analyst.post(
            "/api/survey/mappings/preview/", {"file": upload()}, format="multipart"
        ).status_code
        == 403
    )
    assert token_client(None).get("/api/survey/mappings/").status_code in (401, 403)
    assert not ColumnMapping.objects.exists()


def test_a_limesurvey_xlsx_from_upload_to_summary_through_a_background_job(manager_client):
    """The survey manager's whole path: upload, proposed mapping and preview, confirm, the
    job's page, and the same percentages as the long file of the same answers."""
    from openpyxl import Workbook

    from survey.jobs import execute_job
    from survey.models import Job, Question, Wave
    from survey.reports import indicator_rows

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "submitdate", "country", "sector", "barriers[SQ001]", "barriers[SQ004]"])
    sheet.append([1, "2024-01-01", "FIN", 3, "Y", None])
    sheet.append([2, "2024-01-01", "FIN", 7, None, "Y"])
    sheet.append([3, "2024-01-01", "CAN", 7, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    file = SimpleUploadedFile("limesurvey.xlsx", buffer.getvalue())
    shown = manager_client.post(IMPORT, {"file": file, "preview": "1", "wave": "LS-2024"})
    assert shown.context["preview"].mapping.columns.splitlines() == [
        "barriers[SQ001] = barriers/resources",
        "barriers[SQ004] = barriers/evidence",
    ]
    key = shown.context["form"].initial["upload"]
    started = manager_client.post(
        IMPORT, {"upload": key, "wave": "LS-2024", "create_wave": "on", "background": "on"}
    )
    assert started.status_code == 302
    job = Job.objects.get()
    assert "<progress" in manager_client.get(started["Location"]).content.decode()
    execute_job(job.pk)
    page = manager_client.get(started["Location"]).content.decode()
    assert "3 rows read" in page
    assert "respondents created" in page
    long_text = (
        "wave,country,respondent,sector,question,item,answer\n"
        "LS-LONG,FIN,1,03,barriers,resources,yes\nLS-LONG,FIN,1,03,barriers,evidence,no\n"
        "LS-LONG,FIN,2,07,barriers,resources,no\nLS-LONG,FIN,2,07,barriers,evidence,yes\n"
    )
    from survey.imports import import_survey

    assert import_survey(io.BytesIO(long_text.encode()), create_wave=True).ok
    question = Question.objects.get(code="barriers")

    def percents(code):
        wave = Wave.objects.get(code=code)
        return [(r.item.code, r.percent) for r in indicator_rows(wave=wave, question=question)]

    assert percents("LS-2024") == percents("LS-LONG")
