"""Racing requests on PostgreSQL, each thread on its own connection, released together:
one winner, a clear answer to the others, never a 500, a 503 or a deadlock."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from initiatives.models import Membership
from survey.imports import import_survey
from survey.models import Respondent, Response, Wave
from tests.factories import MembershipFactory, OrganisationFactory, StaffFactory, UserFactory
from tests.faults.test_concurrency import _postgresql_only, run_in_parallel

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

_ = _postgresql_only  # the autouse fixture: these tests need real parallel connections

HEADER = "wave,country,respondent,sector,question,item,answer\n"


def _client(user=None):
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _post(client, url, data):
    def call():
        response = client.post(url, data)
        return response.status_code, response.content.decode()

    return call


def test_two_admins_removing_each_other_leave_the_organisation_an_admin():
    for _round in range(5):
        organisation = OrganisationFactory()
        first = MembershipFactory(organisation=organisation, role="admin")
        second = MembershipFactory(organisation=organisation, role="admin")

        def remove(by, whom):
            url = reverse("initiatives:membership_change", args=[whom.organisation_id, whom.pk])
            return _post(_client(by.user), url, {"action": "remove"})

        outcomes = run_in_parallel(remove(first, second), remove(second, first))
        assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
        statuses = sorted(status for _, (status, _body) in outcomes)
        # One removes the other; the other, no longer an admin once it gets the lock, is
        # refused as any non-admin is (403), not with a 503 or a deadlock.
        assert statuses == [302, 403], outcomes
        admins = Membership.objects.active().filter(organisation=organisation, role="admin")
        assert admins.count() == 1


def test_two_admins_demoting_each_other_leave_the_organisation_an_admin():
    organisation = OrganisationFactory()
    first = MembershipFactory(organisation=organisation, role="admin")
    second = MembershipFactory(organisation=organisation, role="admin")

    def demote(by, whom):
        url = reverse("initiatives:membership_change", args=[organisation.pk, whom.pk])
        return _post(_client(by.user), url, {"action": "role", "role": "member"})

    outcomes = run_in_parallel(demote(first, second), demote(second, first))
    statuses = sorted(status for _, (status, _body) in outcomes)
    assert statuses in ([302, 302], [302, 403]), outcomes
    admins = Membership.objects.active().filter(organisation=organisation, role="admin")
    assert admins.count() == 1


def test_eight_parallel_sign_ups_with_one_address_make_one_account():
    data = {
        "email": "Ana.Virtanen@example.fi",
        "first_name": "Ana",
        "password1": "a long walk by the sea",
        "password2": "a long walk by the sea",
    }
    url = reverse("initiatives:signup")
    outcomes = run_in_parallel(*(_post(_client(), url, data) for _ in range(8)))
    assert [kind for kind, _ in outcomes] == ["ok"] * 8, outcomes
    statuses = sorted(status for _, (status, _body) in outcomes)
    assert statuses == [302] + [400] * 7, statuses
    for _, (status, body) in outcomes:
        if status == 400:
            assert "An account with this e-mail address exists" in body
    assert get_user_model().objects.filter(username="ana.virtanen@example.fi").count() == 1


def test_a_double_clicked_ask_to_join_makes_one_request():
    organisation = OrganisationFactory()
    MembershipFactory(organisation=organisation, role="admin")
    user = UserFactory()
    url = reverse("initiatives:organisation_join")
    clicks = [_post(_client(user), url, {"organisation": organisation.pk}) for _ in range(2)]
    outcomes = run_in_parallel(*clicks)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    statuses = sorted(status for _, (status, _body) in outcomes)
    assert statuses == [302, 400], outcomes
    assert Membership.objects.filter(user=user, organisation=organisation).count() == 1


def test_two_imports_creating_the_same_wave_share_it():
    def load(respondent):
        text = HEADER + f"RACE-2026,FIN,{respondent},03,barriers,resources,yes\n"
        return lambda: import_survey(io.BytesIO(text.encode()), create_wave=True)

    outcomes = run_in_parallel(load("fi-1"), load("fi-2"))
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    results = [result for _, result in outcomes]
    assert all(result.ok for result in results), [result.errors for result in results]
    assert sorted(len(result.waves_created) for result in results) == [0, 1]
    wave = Wave.objects.get(code="RACE-2026")
    assert sorted(wave.respondents.values_list("code", flat=True)) == ["fi-1", "fi-2"]


def test_the_same_file_uploaded_twice_at_once_is_stored_once_without_a_server_error():
    rows = "".join(f"RACE-2027,FIN,fi-{n},03,barriers,resources,yes\n" for n in range(50))
    staff = StaffFactory()

    def upload():
        client = _client(staff)
        file = SimpleUploadedFile("survey.csv", (HEADER + rows).encode(), "text/csv")
        response = client.post(
            "/admin/survey/response/import/", {"file": file, "create_wave": "on"}
        )
        return response.status_code, response.content.decode()

    outcomes = run_in_parallel(upload, upload)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    statuses = [status for _, (status, _body) in outcomes]
    # The first stores the file; the second finds it stored (200, all unchanged) or, if both
    # wrote at once, is told that nothing of it was saved (400).
    assert 200 in statuses, statuses
    assert set(statuses) <= {200, 400}, statuses
    for _, (status, body) in outcomes:
        if status == 400:
            assert "at the same moment" in body
    assert Wave.objects.filter(code="RACE-2027").count() == 1
    assert Respondent.objects.filter(wave__code="RACE-2027").count() == 50
    assert Response.objects.filter(respondent__wave__code="RACE-2027").count() == 50


def test_two_imports_writing_the_same_respondents_give_the_loser_a_clear_error():
    Wave.objects.create(code="RACE-2028", title="Race", year=2028)
    rows = "".join(f"RACE-2028,FIN,fi-{n},03,barriers,resources,yes\n" for n in range(200))

    def load():
        return import_survey(io.BytesIO((HEADER + rows).encode()))

    outcomes = run_in_parallel(load, load)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    results = [result for _, result in outcomes]
    assert any(result.ok and result.responses_created == 200 for result in results)
    for result in results:
        if not result.ok:
            assert "at the same moment" in result.errors[0]["message"]
    assert Response.objects.filter(respondent__wave__code="RACE-2028").count() == 200
