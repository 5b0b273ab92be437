"""Every page of every registered admin renders for staff: changelist, add, change, history,
delete confirmation. A page the admin forbids by design (adding a security event) must say
so with a 403, not break."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from initiatives import services
from initiatives.models import (
    AccountabilityFramework,
    Activity,
    ApiToken,
    BudgetFramework,
    SecurityEvent,
    Stage,
)
from survey.models import ColumnMapping, Job
from tests.factories import WaveFactory, add_participation, answer, make_initiative

REGISTERED = sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label)


@pytest.fixture
def one_of_each(staff, member, organisation):
    """At least one record of every model the admin shows (the vocabulary is seeded)."""
    initiative = make_initiative(by=staff, organisation=organisation, stage=Stage.PILOT)
    add_participation(initiative)
    AccountabilityFramework.objects.create(initiative=initiative, accountable_body="City")
    BudgetFramework.objects.create(initiative=initiative, amount=1000, currency="EUR")
    Activity.objects.create(initiative=initiative, kind="note", author=staff, text="Met.")
    services.stage_proposal_create(
        initiative=initiative, to_stage=Stage.EMBEDDED, by=member, reason="Funded."
    )
    ApiToken.issue(user=member, name="laptop")
    SecurityEvent.objects.create(kind="sign_in", user=member, username=member.username)
    Group.objects.create(name="Case officers")
    sign_in = {"user_agent": "test", "ip_address": "127.0.0.1", "username": member.username}
    AccessAttempt.objects.create(**sign_in, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**sign_in)
    AccessFailureLog.objects.create(**sign_in)
    answer(WaveFactory(), "FIN", "R1", "03", "barriers", {"resources": True, "evidence": False})
    ColumnMapping.objects.create(name="ls", columns="Q3[SQ001] = barriers/resources")
    Job.objects.create(kind=Job.Kind.SURVEY_IMPORT, owner=staff, params={"name": "s.csv"})


def _expected(allowed):
    return 200 if allowed else 403


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[model._meta.label for model, _ in REGISTERED]
)
def test_every_admin_page_renders(client, staff, one_of_each, model, model_admin):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"add a {model._meta.label} to the one_of_each fixture"
    client.force_login(staff)
    request = RequestFactory().get("/")
    request.user = staff
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"

    pages = {
        "changelist": (reverse(f"{info}_changelist"), 200),
        "add": (reverse(f"{info}_add"), _expected(model_admin.has_add_permission(request))),
        "change": (reverse(f"{info}_change", args=[obj.pk]), 200),
        "history": (reverse(f"{info}_history", args=[obj.pk]), 200),
        "delete": (
            reverse(f"{info}_delete", args=[obj.pk]),
            _expected(model_admin.has_delete_permission(request, obj)),
        ),
    }
    for page, (url, status) in pages.items():
        response = client.get(url)
        assert response.status_code == status, f"{page} page {url}"
        if status == 200:
            assert b'id="content"' in response.content, f"{page} page {url}"
