"""Bad input gets a 4xx in one stable shape, never a 500."""

import pytest

from initiatives.models import Initiative
from tests.factories import make_initiative

pytestmark = pytest.mark.django_db

GOOD = {"title": "Care circles", "country": "FIN", "sector": "07", "level": "local"}


@pytest.fixture
def staff_client(as_user, staff):
    return as_user(staff)


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    if field:
        assert field in body["details"], body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"country": "F\x00N"}, "country"),
        ({"objectives": ["qual\x00ity"]}, "objectives"),
        ({"title": 42.5, "participants": "many"}, "participants"),
        ({"country": "XXX"}, "country"),
        ({"sector": "99"}, "sector"),
        ({"level": "galactic"}, "level"),
        ({"start_date": "2024-13-45"}, "start_date"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"objectives": ["resources"]}, "objectives"),  # a barrier, not a reason
        ({"objectives": "quality"}, "objectives"),
        ({"participants": -1}, "participants"),
        ({"participants": 10**30}, "participants"),
        ({"start_date": "2024-05-01", "end_date": "2024-01-01"}, "end_date"),
        ({"description": "x" * 20_001}, "description"),
        ({"organisation": 10**12}, "organisation"),
        ({"organisation": "first"}, "organisation"),
        ({"organisation": True}, "organisation"),
        ({"title": 42}, "title"),
        ({"participants": "12"}, "participants"),
        ({"participants": 12.5}, "participants"),
    ],
)
def test_bad_values_are_a_validation_error_naming_the_field(staff_client, change, field):
    response = staff_client.post("/api/initiatives/", {**GOOD, **change}, format="json")
    assert_error(response, 400, "validation_error", field)
    assert not Initiative.objects.exists()


def test_a_body_that_is_not_json_is_a_parse_error(staff_client):
    response = staff_client.post("/api/initiatives/", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_a_form_body_is_an_unsupported_media_type(staff_client):
    response = staff_client.post("/api/initiatives/", GOOD)  # multipart
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("country=XXX", "country"),
        ("stage=flying", "stage"),
        ("objective=nothing", "objective"),
        ("q=a%00b", "q"),
        ("ordering=password", "ordering"),
    ],
)
def test_bad_filters_are_a_validation_error(staff_client, query, field):
    response = staff_client.get(f"/api/initiatives/?{query}")
    assert_error(response, 400, "validation_error", field)


def test_a_page_past_the_end_is_not_found(staff_client):
    assert_error(staff_client.get("/api/initiatives/?page=99"), 404, "not_found")


@pytest.mark.parametrize(
    "query", ["page=", "page=two", "page=1&page=2", "page_size=0", "page_size="]
)
def test_a_malformed_page_is_a_validation_error(staff_client, query):
    assert_error(staff_client.get(f"/api/initiatives/?{query}"), 400, "validation_error")


def test_page_last_is_the_last_page(api, staff):
    for number in range(3):
        make_initiative(by=staff, title=f"Listed {number}", review_status="published")
    response = api.get("/api/initiatives/?page=last&page_size=2&ordering=title")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["title"] for row in body["results"]] == ["Listed 2"]
    assert body["previous"]
    assert body["next"] is None


def test_page_last_of_an_empty_list_is_the_empty_first_page(api):
    response = api.get("/api/initiatives/?page=last&search=nothing-matches-this")
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    "cursor",
    [
        "cj0xJnA9eA==",  # r=1&p=x: a well-formed cursor whose position is not a number
        "not base64 at all",
        "bz0tMQ==",  # o=-1
    ],
)
def test_a_crafted_cursor_is_a_validation_error(staff_client, cursor):
    response = staff_client.get("/api/survey/responses/", {"cursor": cursor})
    assert_error(response, 400, "validation_error", field="cursor")


def test_a_body_over_the_upload_limit_is_a_json_413(staff_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = staff_client.post("/api/initiatives/", data=body, content_type="application/json")
    assert_error(response, 413, "too_large")
    assert "1 MB" in response.json()["message"]
    assert not Initiative.objects.exists()


def test_a_form_over_the_upload_limit_on_the_site_is_a_413_page(client, member, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    client.force_login(member)
    response = client.post("/initiatives/new/", {"description": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "1 MB" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/initiatives/NOPE-1/",
        "/api/initiatives/a%00b/",
        "/api/organisations/99999999999999999/",
        "/api/vocabulary/countries/ZZZ/",
    ],
)
def test_unknown_records_are_not_found(staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 404


def test_a_service_rule_is_a_validation_error(staff_client, staff):
    initiative = make_initiative(by=staff)  # incomplete: no participation, no objective
    response = staff_client.post(f"/api/initiatives/{initiative.reference}/submit/")
    assert_error(response, 400, "validation_error")
    assert "Before submitting" in response.json()["message"]


def test_a_stage_change_in_the_future_is_refused(staff_client, staff):
    initiative = make_initiative(by=staff)
    response = staff_client.post(
        f"/api/initiatives/{initiative.reference}/stage/",
        {"to_stage": "pilot", "date": "2999-01-01"},
        format="json",
    )
    assert_error(response, 400, "validation_error")


def test_a_member_may_not_approve(as_user, member, organisation, staff):
    initiative = make_initiative(by=staff, organisation=organisation, review_status="submitted")
    response = as_user(member).post(f"/api/initiatives/{initiative.reference}/approve/")
    assert_error(response, 403, "permission_denied")


def test_members_record_initiatives_for_their_own_organisation_only(
    as_user, member, organisation, other_member
):
    other_organisation = other_member.memberships.get().organisation
    client = as_user(member)
    for body in ({**GOOD}, {**GOOD, "organisation": other_organisation.pk}):
        assert_error(
            client.post("/api/initiatives/", body, format="json"),
            400,
            "validation_error",
            "organisation",
        )
    created = client.post("/api/initiatives/", {**GOOD, "organisation": organisation.pk})
    assert created.status_code == 415  # multipart without format=json: still a clean 4xx
    created = client.post(
        "/api/initiatives/", {**GOOD, "organisation": organisation.pk}, format="json"
    )
    assert created.status_code == 201


def test_members_may_not_assign_a_case_officer(as_user, member, organisation, staff):
    body = {**GOOD, "organisation": organisation.pk, "case_officer": staff.pk}
    response = as_user(member).post("/api/initiatives/", body, format="json")
    assert_error(response, 400, "validation_error", "case_officer")


def test_indicators_refuse_unknown_codes(api):
    for query, field in [
        ("wave=NOPE&question=barriers", "wave"),
        ("wave=OECD-2010&question=nope", "question"),
        ("wave=OECD-2010&question=barriers&country=ZZZ", "country"),
        ("wave=OECD-2010&question=barriers&sector=11", "sector"),
        ("wave=OECD-2010&question=barriers&by=region", "by"),
        ("question=barriers", "wave"),
    ]:
        assert_error(api.get(f"/api/survey/indicators/?{query}"), 400, "validation_error", field)


def test_json_types_are_not_coerced(as_user, staff):
    initiative = make_initiative(by=staff)
    url = f"/api/initiatives/{initiative.reference}/"
    client = as_user(staff)
    for body, field in [
        ({"roles_written": 1}, "roles_written"),
        ({"notes": ["a"]}, "notes"),
    ]:
        response = client.patch(f"{url}accountability/", body, format="json", HTTP_IF_MATCH='"1"')
        assert_error(response, 400, "validation_error", field)
    budget = client.patch(
        f"{url}budget/", {"amount": 1250.5, "currency": "EUR"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert budget.status_code == 200  # a number is a documented way to send an amount
    assert budget.json()["amount"] == "1250.50"
