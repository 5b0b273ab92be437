"""Staff browse, import, export and delete survey records in the admin."""

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from survey.models import ReferenceValue, Respondent, Response, Wave
from tests.factories import WaveFactory, answer

pytestmark = pytest.mark.django_db

IMPORT = "/admin/survey/response/import/"
EXPORT = "/admin/survey/response/export/"
HEADER = "wave,country,respondent,sector,question,item,answer\n"


def upload(text, name="survey.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def records():
    wave = Wave.objects.get(code="OECD-2010")
    answer(wave, "FIN", "fi-1", "03", "barriers", {"resources": True, "evidence": False})
    answer(wave, "CAN", "ca-1", "07", "reasons", {"costs": True})
    return wave


@pytest.mark.parametrize(
    "url",
    [
        "/admin/survey/wave/",
        "/admin/survey/question/",
        "/admin/survey/item/",
        "/admin/survey/sector/",
        "/admin/survey/country/?q=fin",
        "/admin/survey/referencevalue/",
        "/admin/survey/respondent/?q=fi",
        "/admin/survey/response/",
        "/admin/survey/response/?answer=yes&sector__code__exact=03&q=fi-1",
        "/admin/survey/response/?item__question__id__exact=1",
    ],
)
def test_staff_browse_every_survey_list(staff_client, records, url):
    assert staff_client.get(url).status_code == 200


def test_response_filters_narrow_the_list(staff_client, records):
    response = staff_client.get("/admin/survey/response/", {"answer": "yes"})
    shown = {r.item.code for r in response.context["cl"].result_list}
    assert shown == {"resources", "costs"}
    response = staff_client.get("/admin/survey/response/", {"country": "CAN"})
    assert [r.respondent.code for r in response.context["cl"].result_list] == ["ca-1"]


def test_response_list_takes_few_queries(staff_client, records, django_assert_max_num_queries):
    for n in range(40):
        answer(records, "FRA", f"fr-{n}", "09", "factors", {"skills": n % 2 == 0})
    with django_assert_max_num_queries(20):
        assert staff_client.get("/admin/survey/response/").status_code == 200


def test_country_sector_and_item_can_be_autocompleted(staff_client):
    response = staff_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "survey",
            "model_name": "respondent",
            "field_name": "country",
            "term": "finl",
        },
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == ["FIN"]
    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "survey", "model_name": "response", "field_name": "item", "term": "resou"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["Shortage of resources"]


def test_import_page_is_for_staff_only(client, user):
    assert client.get(IMPORT).status_code == 302
    client.force_login(user)
    response = client.get(IMPORT)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_import_page_is_linked_from_the_lists(staff_client):
    assert IMPORT in staff_client.get("/admin/survey/response/").content.decode()
    assert IMPORT in staff_client.get("/admin/survey/wave/").content.decode()


def test_import_page_imports_and_shows_the_summary(staff_client):
    response = staff_client.post(
        IMPORT, {"file": upload(HEADER + "OECD-2010,FIN,r,03,barriers,resources,yes\n")}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Responses created" in html
    assert response.context["result"].responses_created == 1
    assert Response.objects.count() == 1


def test_import_page_lists_errors_with_lines_and_writes_nothing(staff_client):
    text = (
        HEADER
        + "OECD-2010,FIN,r,03,barriers,resources,yes\nOECD-2010,FIN,r,42,barriers,evidence,yes\n"
    )
    response = staff_client.post(IMPORT, {"file": upload(text)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<td>3</td><td>sector</td><td><code>42</code></td>" in html
    assert Response.objects.count() == 0


def test_import_page_checkboxes_reach_the_importer(staff_client):
    text = HEADER + "NEW-2025,FIN,r,03,barriers,time,yes\n"
    assert staff_client.post(IMPORT, {"file": upload(text)}).status_code == 400
    response = staff_client.post(
        IMPORT, {"file": upload(text), "create_wave": "on", "create_items": "on"}
    )
    assert response.status_code == 200
    assert Wave.objects.filter(code="NEW-2025").exists()
    changed = HEADER + "NEW-2025,FIN,r,03,barriers,time,no\n"
    assert staff_client.post(IMPORT, {"file": upload(changed)}).status_code == 400
    response = staff_client.post(IMPORT, {"file": upload(changed), "replace": "on"})
    assert response.context["result"].responses_replaced == 1


def test_export_download_is_for_staff_and_streams_the_import_format(client, user, staff, records):
    assert client.get(EXPORT).status_code == 302
    client.force_login(user)
    assert client.get(EXPORT).status_code == 302
    client.force_login(staff)
    response = client.get(EXPORT, {"wave": "OECD-2010"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="survey-OECD-2010.csv"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == HEADER.strip()
    assert "OECD-2010,CAN,ca-1,07,reasons,costs,yes" in lines
    assert len(lines) == 4
    assert client.get(EXPORT, {"wave": "NOPE"}).status_code == 404


def test_deleting_a_wave_confirms_with_counts_and_is_logged(staff_client, staff):
    wave = WaveFactory(code="OLD-2001", year=2001)
    for n in range(3):
        answer(wave, "FIN", f"r{n}", "03", "barriers", {"resources": True, "evidence": False})
    other = Wave.objects.get(code="OECD-2010")
    answer(other, "FIN", "keep", "03", "barriers", {"resources": True})

    url = f"/admin/survey/wave/{wave.pk}/delete/"
    page = staff_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 respondents, 6 responses, 0 reference values" in html
    assert Respondent.objects.filter(wave=wave).count() == 3  # nothing deleted yet

    response = staff_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Wave.objects.filter(code="OLD-2001").exists()
    assert not Respondent.objects.filter(code__startswith="r").exists()
    assert Response.objects.count() == 1
    entry = LogEntry.objects.get(action_flag=DELETION, object_repr="OLD-2001")
    assert entry.user == staff
    assert "3 respondents, 6 responses, 0 reference values" in entry.change_message


def test_bulk_delete_of_waves_is_confirmed_and_logged(staff_client):
    first = WaveFactory(code="A-2001", year=2001)
    second = WaveFactory(code="B-2002", year=2002)
    answer(first, "FIN", "a", "03", "barriers", {"resources": True})
    data = {"action": "delete_selected", "_selected_action": [first.pk, second.pk]}
    page = staff_client.post("/admin/survey/wave/", data)
    assert page.status_code == 200
    assert "1 respondents, 1 responses" in page.content.decode()
    staff_client.post("/admin/survey/wave/", {**data, "post": "yes"})
    assert not Wave.objects.filter(code__in=["A-2001", "B-2002"]).exists()
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2
    assert ReferenceValue.objects.filter(wave__code="OECD-2010").exists()


def test_a_refused_upload_names_the_chosen_file_and_counts_in_plural_forms(staff_client):
    response = staff_client.post(
        IMPORT, {"file": upload(HEADER + "OECD-2010,ZZZ,r1,03,barriers,resources,yes\n", "may.csv")}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "You chose “may.csv”" in page
    assert "1 problem found" in page
    assert "problem(s)" not in page


def test_a_conflicting_answer_speaks_of_the_form_not_of_command_line_flags(staff_client, records):
    response = staff_client.post(
        IMPORT, {"file": upload(HEADER + "OECD-2010,FIN,fi-1,03,barriers,resources,no\n")}
    )
    page = response.content.decode()
    assert "choosing to replace recorded answers" in page
    assert "--replace" not in page
