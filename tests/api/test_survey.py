import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from survey.models import Question, Response, Wave
from survey.reports import indicator_rows
from tests.factories import WaveFactory, answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave():
    wave = WaveFactory(code="T-2024")
    # The docs/DOMAIN.md example: 4 FIN pairs and 1 CAN pair answer `barriers`.
    answer(wave, "FIN", "fin-1", "03", "barriers", {"resources": True, "evidence": False})
    answer(wave, "FIN", "fin-1", "07", "barriers", {"resources": True})
    answer(wave, "FIN", "fin-2", "03", "barriers", {"resources": False, "evidence": True})
    answer(wave, "FIN", "fin-2", "07", "barriers", {"resistance": False})
    answer(wave, "CAN", "can-1", "07", "barriers", {"resources": True})
    return wave


def rows_by_item(rows, **group):
    return {
        row["item"]: row for row in rows if all(row[key] == value for key, value in group.items())
    }


def test_indicators_follow_the_oecd_formula(api, wave):
    response = api.get("/api/survey/indicators/?wave=T-2024&question=barriers")
    assert response.status_code == 200
    resources = rows_by_item(response.json())["resources"]
    assert resources == {
        "wave": "T-2024",
        "question": "barriers",
        "item": "resources",
        "item_label": "Shortage of resources",
        "country": None,
        "sector": None,
        "affirmative": 3,
        "responses": 5,
        "percent": 60.0,
        "reference_percent": None,
    }
    by_country = api.get("/api/survey/indicators/?wave=T-2024&question=barriers&by=country")
    assert rows_by_item(by_country.json(), country="FIN")["resources"]["percent"] == 50.0
    assert rows_by_item(by_country.json(), country="CAN")["resources"]["percent"] == 100.0
    filtered = api.get("/api/survey/indicators/?wave=T-2024&question=barriers&country=fin")
    assert rows_by_item(filtered.json())["resources"]["country"] == "FIN"


def test_indicators_match_the_report_row_for_row(api, wave):
    question = Question.objects.get(code="barriers")
    for by in (None, "country", "sector"):
        expected = indicator_rows(wave=wave, question=question, by=by)
        query = "wave=T-2024&question=barriers" + (f"&by={by}" if by else "")
        got = api.get(f"/api/survey/indicators/?{query}").json()
        assert len(got) == len(expected)
        for row, report in zip(got, expected, strict=True):
            assert row["item"] == report.item.code
            assert (row["affirmative"], row["responses"]) == (report.affirmative, report.responses)
            rounded = report.percent_rounded
            assert row["percent"] == (None if rounded is None else float(rounded))


def test_no_answers_is_an_undefined_percent_with_the_published_value(api):
    response = api.get("/api/survey/indicators/?wave=OECD-2010&question=factors&sector=01")
    frameworks = rows_by_item(response.json())["frameworks"]
    assert frameworks["responses"] == 0
    assert frameworks["percent"] is None
    assert frameworks["reference_percent"] == 73.0
    assert frameworks["sector"] == "01"


def test_vocabulary_is_cacheable(api):
    response = api.get("/api/vocabulary/questions/")
    assert "max-age=3600" in response["Cache-Control"]
    barriers = next(q for q in response.json()["results"] if q["code"] == "barriers")
    assert [item["code"] for item in barriers["items"]][:2] == ["resources", "resistance"]
    assert api.get("/api/vocabulary/sectors/07/").json()["code"] == "07"
    values = api.get("/api/vocabulary/reference-values/?wave=OECD-2010&question=barriers")
    assert {v["item"]: v["percent"] for v in values.json()["results"]}["resources"] == 42.0


def test_staff_filter_survey_records(as_user, staff, wave):
    client = as_user(staff)

    def count(query):
        response = client.get(f"/api/survey/responses/?{query}")
        assert response.status_code == 200
        return len(response.json()["results"])

    assert count("wave=T-2024") == 7
    assert count("wave=T-2024&country=CAN") == 1
    assert count("wave=T-2024&sector=03&answer=true") == 2
    assert count("question=barriers&item=evidence") == 2
    row = client.get("/api/survey/responses/?country=CAN").json()["results"][0]
    assert row == {
        "id": row["id"],
        "wave": "T-2024",
        "country": "CAN",
        "respondent": "can-1",
        "sector": "07",
        "question": "barriers",
        "item": "resources",
        "answer": True,
    }
    assert client.get("/api/survey/responses/?wave=NOPE").status_code == 400


def test_survey_records_are_cursor_paginated(as_user, staff, wave):
    client = as_user(staff)
    seen = []
    url = "/api/survey/responses/?page_size=3"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 3
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(Response.objects.values_list("pk", flat=True))


def csv_upload(text):
    return SimpleUploadedFile("survey.csv", text.encode(), content_type="text/csv")


HEADER = "wave,country,respondent,sector,question,item,answer\n"


def test_import_takes_the_command_s_file_and_options(as_user, staff):
    client = as_user(staff)
    body = (
        HEADER
        + "NEW-2025,FIN,r1,3,barriers,resources,yes\nNEW-2025,FIN,r1,3,barriers,evidence,no\n"
    )
    refused = client.post("/api/survey/responses/import/", {"file": csv_upload(body)})
    assert refused.status_code == 400
    problem = refused.json()
    assert problem["code"] == "import_error"
    assert problem["details"]["error_count"] >= 1
    assert problem["details"]["errors"][0]["line"] == 2
    assert problem["details"]["errors"][0]["column"] == "wave"
    assert not Wave.objects.filter(code="NEW-2025").exists()

    created = client.post(
        "/api/survey/responses/import/", {"file": csv_upload(body), "create_wave": "true"}
    )
    assert created.status_code == 201
    assert created.json()["responses_created"] == 2
    assert created.json()["waves_created"] == ["NEW-2025"]
    again = client.post("/api/survey/responses/import/", {"file": csv_upload(body)})
    assert again.status_code == 200
    assert again.json()["responses_unchanged"] == 2


def test_import_is_all_or_nothing(as_user, staff, wave):
    before = Response.objects.count()
    body = (
        HEADER + "T-2024,FIN,r9,03,barriers,resources,yes\nT-2024,XXX,r9,03,barriers,costs,maybe\n"
    )
    response = as_user(staff).post("/api/survey/responses/import/", {"file": csv_upload(body)})
    assert response.status_code == 400
    columns = {(e["line"], e["column"]) for e in response.json()["details"]["errors"]}
    assert (3, "country") in columns
    assert (3, "answer") in columns
    assert Response.objects.count() == before


@pytest.mark.parametrize("role", ["anonymous", "member_a"])
def test_only_staff_import(client_as, role):
    response = client_as(role).post("/api/survey/responses/import/", {"file": csv_upload(HEADER)})
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "permission_denied")


def test_import_without_a_file_is_a_validation_error(as_user, staff):
    response = as_user(staff).post("/api/survey/responses/import/", {"replace": "true"})
    assert response.status_code == 400
    assert "file" in response.json()["details"]


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe not utf-8 at all",
        HEADER.encode() + b"T-2024,FIN,r\x001,03,barriers,resources,yes\n",
        b"",
        b"just,a,header\n",
    ],
)
def test_import_refuses_broken_files_with_400(as_user, staff, wave, content):
    upload = SimpleUploadedFile("survey.csv", content, content_type="text/csv")
    response = as_user(staff).post("/api/survey/responses/import/", {"file": upload})
    assert response.status_code == 400
    assert response.json()["code"] in ("import_error", "validation_error")
