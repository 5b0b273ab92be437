"""One rule, one verdict: the same input through the site's form, the API and the admin is
accepted by all three doors or refused by all three, on the same field.

Each case is written once, in the domain's terms (item codes, stage names); a small adapter
per door turns it into what that door's client sends (a browser's form post, a JSON body,
the admin's form post with its inline management forms) and reads back the verdict.
"""

import django.contrib.auth.models as auth_models
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from initiatives.models import LONG_TEXT_LIMIT, PARTICIPANTS_LIMIT, ApiToken, Initiative
from survey.models import Item
from tests.factories import MembershipFactory, make_initiative
from tests.initiatives.test_admin import form_data as admin_change_data
from tests.portal.helpers import initiative_form_data

pytestmark = pytest.mark.django_db

ADMIN_ADD = reverse("admin:initiatives_initiative_add")
# The admin's add form calls the stage "initial_stage" (beside the date it started).
ADMIN_FIELDS = {"initial_stage": "stage"}
INLINES = ("participations", "accountability", "budget", "activities")

ACCEPTED = "accepted"


def refused(field):
    return ("refused", field)


# The cases: (identity, input, verdict). "member" is an active member of the owner
# organisation; in the admin, where groups do not go, the member's part is played by a staff
# account that may add initiatives but neither reviews nor changes others' (and belongs to
# the organisation), so that the same rule is what decides.
CREATE_CASES = {
    "barriers addressed but not met": (
        "member",
        {"barriers": ["resources"], "barriers_addressed": ["evidence"]},
        refused("barriers_addressed"),
    ),
    "barriers addressed and met": (
        "member",
        {"barriers": ["resources", "evidence"], "barriers_addressed": ["evidence"]},
        ACCEPTED,
    ),
    "description at the length limit": ("member", {"description": "x" * LONG_TEXT_LIMIT}, ACCEPTED),
    "description over the length limit": (
        "member",
        {"description": "x" * (LONG_TEXT_LIMIT + 1)},
        refused("description"),
    ),
    "too many participants": (
        "member",
        {"participants": PARTICIPANTS_LIMIT + 1},
        refused("participants"),
    ),
    "end before start": (
        "member",
        {"start_date": "2024-05-01", "end_date": "2024-01-01"},
        refused("end_date"),
    ),
    "member starting at planned": ("member", {"stage": "planned"}, ACCEPTED),
    # The stage history as it happened: any stage, with the date each stage began; a
    # group's dates are reported, a case officer confirms them later.
    "member starting at embedded": ("member", {"stage": "embedded"}, ACCEPTED),
    "member logging a long-running pilot": (
        "member",
        {"stage": "pilot", "planned_since": "2019-03-01", "pilot_since": "2021-01-15"},
        ACCEPTED,
    ),
    "pilot before planned": (
        "member",
        {"stage": "pilot", "planned_since": "2021-03-01", "pilot_since": "2020-01-15"},
        refused("pilot_since"),
    ),
    "stage date in the future": (
        "member",
        {"stage": "pilot", "pilot_since": "2999-01-01"},
        refused("pilot_since"),
    ),
    "date of a stage not reached": (
        "member",
        {"stage": "pilot", "pilot_since": "2021-01-15", "embedded_since": "2022-01-01"},
        refused("embedded_since"),
    ),
    "staff starting at embedded": ("staff", {"stage": "embedded"}, ACCEPTED),
}

EDIT_CASES = {
    name: CREATE_CASES[name]
    for name in (
        "barriers addressed but not met",
        "barriers addressed and met",
        "description at the length limit",
        "description over the length limit",
        "too many participants",
        "end before start",
    )
}


def item_pks(codes):
    return [Item.objects.get(question__code="barriers", code=code).pk for code in codes]


@pytest.fixture
def people(organisation, member, staff):
    """Who plays each identity at each door."""
    limited = get_user_model().objects.create_user("limited-staff", "ls@example.org", is_staff=True)
    limited.user_permissions.set(
        auth_models.Permission.objects.filter(
            content_type__app_label="initiatives",
            codename__in=["add_initiative", "view_initiative"],
        )
    )
    MembershipFactory(user=limited, organisation=organisation)
    return {
        "site": {"member": member, "staff": staff},
        "api": {"member": member, "staff": staff},
        "admin": {"member": limited, "staff": staff},
    }


# Site -----------------------------------------------------------------------------------


def _site_data(organisation, initiative, case):
    overrides = {}
    for name, value in case.items():
        if name in ("barriers", "barriers_addressed"):
            overrides[name] = item_pks(value)
        else:
            overrides[name] = str(value)
    return initiative_form_data(organisation, initiative, **overrides)


def _site_verdict(response):
    if response.status_code == 302:
        return ACCEPTED
    assert response.status_code == 400, response.status_code
    fields = {name for name in response.context["form"].errors if name != "__all__"}
    assert len(fields) == 1, fields
    return refused(fields.pop())


def site_create(user, organisation, case):
    client = Client()
    client.force_login(user)
    response = client.post(reverse("initiatives:create"), _site_data(organisation, None, case))
    return _site_verdict(response)


def site_edit(user, organisation, initiative, case):
    client = Client()
    client.force_login(user)
    url = reverse("initiatives:edit", args=[initiative.reference])
    return _site_verdict(client.post(url, _site_data(organisation, initiative, case)))


# API ------------------------------------------------------------------------------------


def _api_client(user):
    client = APIClient()
    _, key = ApiToken.issue(user=user, name="same verdict")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _api_verdict(response, ok):
    if response.status_code == ok:
        return ACCEPTED
    assert response.status_code == 400, (response.status_code, response.content[:300])
    fields = set(response.json()["details"])
    assert len(fields) == 1, fields
    return refused(fields.pop())


def api_create(user, organisation, case):
    body = {
        "title": "Parents online",
        "summary": "Young parents help each other.",
        "country": "FIN",
        "sector": "10",
        "level": "local",
        "organisation": organisation.pk,
        "start_date": "2024-03-01",
        **case,
    }
    response = _api_client(user).post("/api/initiatives/", body, format="json")
    return _api_verdict(response, 201)


def api_edit(user, organisation, initiative, case):
    response = _api_client(user).patch(
        f"/api/initiatives/{initiative.reference}/",
        case,
        format="json",
        HTTP_IF_MATCH=f'"{initiative.version}"',
    )
    return _api_verdict(response, 200)


# Admin ----------------------------------------------------------------------------------


def _admin_values(case):
    values = {}
    for name, value in case.items():
        if name in ("barriers", "barriers_addressed"):
            values[name] = item_pks(value)
        elif name == "stage":
            values["initial_stage"] = value
        else:
            values[name] = str(value)
    return values


def _admin_verdict(response):
    if response.status_code == 302:
        return ACCEPTED
    assert response.status_code == 200, response.status_code
    errors = response.context["adminform"].form.errors
    fields = {ADMIN_FIELDS.get(name, name) for name in errors if name != "__all__"}
    assert len(fields) == 1, errors
    return refused(fields.pop())


def admin_create(user, organisation, case):
    client = Client()
    client.force_login(user)
    data = {
        "title": "Parents online",
        "summary": "Young parents help each other.",
        "country": "FIN",
        "sector": "10",
        "level": "local",
        "organisation": organisation.pk,
        "start_date": "2024-03-01",
        "initial_stage": "planned",
    }
    for inline in INLINES:
        data[f"{inline}-TOTAL_FORMS"] = 0
        data[f"{inline}-INITIAL_FORMS"] = 0
    data.update(_admin_values(case))
    return _admin_verdict(client.post(ADMIN_ADD, data))


def admin_edit(user, organisation, initiative, case):
    client = Client()
    client.force_login(user)
    data = admin_change_data(client, initiative, **_admin_values(case))
    url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
    return _admin_verdict(client.post(url, data))


CREATE_DOORS = {"site": site_create, "api": api_create, "admin": admin_create}
EDIT_DOORS = {"site": site_edit, "api": api_edit, "admin": admin_edit}


@pytest.mark.parametrize("door", CREATE_DOORS)
@pytest.mark.parametrize("name", CREATE_CASES)
def test_creating_gets_the_same_verdict_at_every_door(people, organisation, name, door):
    identity, case, expected = CREATE_CASES[name]
    user = people[door][identity]

    verdict = CREATE_DOORS[door](user, organisation, case)

    assert verdict == expected
    created = Initiative.objects.filter(title="Parents online")
    if expected == ACCEPTED:
        initiative = created.get()
        assert initiative.stage == case.get("stage", "planned")
        if "description" in case:
            assert initiative.description == case["description"]
        if "barriers_addressed" in case:
            codes = set(initiative.barriers_addressed.values_list("code", flat=True))
            assert codes == set(case["barriers_addressed"])
        given = {
            name.removesuffix("_since"): value
            for name, value in case.items()
            if name.endswith("_since")
        }
        history = {c.to_stage: c for c in initiative.stage_changes.all()}
        for stage, on in given.items():
            assert history[stage].changed_on.isoformat() == on
        # A group reports; staff (and the system) confirm as they write.
        reported = identity == "member"
        assert all(change.is_confirmed != reported for change in history.values())
    else:
        assert not created.exists()


@pytest.mark.parametrize("door", EDIT_DOORS)
@pytest.mark.parametrize("name", EDIT_CASES)
def test_editing_gets_the_same_verdict_at_every_door(people, organisation, staff, name, door):
    identity, case, expected = EDIT_CASES[name]
    initiative = make_initiative(by=staff, organisation=organisation, title="Parents online")

    # These rules are about the record, not who edits it; in the admin, staff edit.
    user = people[door]["staff" if door == "admin" else identity]

    verdict = EDIT_DOORS[door](user, organisation, initiative, case)

    assert verdict == expected
    initiative.refresh_from_db()
    if expected == ACCEPTED:
        assert initiative.version == 2
        if "description" in case:
            assert initiative.description == case["description"]
    else:
        assert initiative.version == 1
        assert initiative.description == "Monthly walks and a shared log of problems."
