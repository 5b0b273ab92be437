"""Writers racing through the API and the site, each request on its own thread and
database connection (PostgreSQL): one wins, the others get a clear answer (412 or 409, or
the stale-edit page), never a 500 and never a lost write."""

import pytest
from django.test import Client
from django.urls import reverse

from initiatives.models import AccountabilityFramework, Initiative, Participation
from tests import parallel
from tests.factories import add_participation, make_initiative, token_client
from tests.portal.helpers import initiative_form_data

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROUNDS = 3


@pytest.fixture(autouse=True)
def _postgresql_only(postgresql_only):
    pass


def run_in_parallel(*calls):
    """Every call answers (a 412 or 409 is an answer); returns what each returned."""
    outcomes = parallel.run_in_parallel(*calls)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    return [value for _, value in outcomes]


def statuses(responses):
    return sorted(response.status_code for response in responses)


@pytest.fixture
def clients(member, staff):
    return token_client(member), token_client(staff)


@pytest.fixture
def case(staff, organisation):
    def make(**fields):
        return make_initiative(by=staff, organisation=organisation, title="Original", **fields)

    return make


def _history(initiative):
    return list(
        Initiative.history.filter(id=initiative.pk)
        .order_by("history_date", "history_id")
        .values_list("title", "archived_at")
    )


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_archive_racing_a_patch_with_one_etag_one_wins(clients, case, round_):
    member_client, staff_client = clients
    initiative = case()
    url = f"/api/initiatives/{initiative.reference}/"

    patch, archive = run_in_parallel(
        lambda: member_client.patch(url, {"title": "Patched"}, format="json", HTTP_IF_MATCH='"1"'),
        lambda: staff_client.delete(url, HTTP_IF_MATCH='"1"'),
    )

    # When the archive commits first, the member's PATCH meets either the stale version
    # (412) or, if it looks the record up after the commit, an archived record that members
    # no longer edit (404). Either way it is told that nothing of it was saved.
    assert statuses([patch, archive]) in ([200, 412], [204, 412], [204, 404])
    if 412 in statuses([patch, archive]):
        loser = patch if patch.status_code == 412 else archive
        assert loser["ETag"] == '"2"'
    initiative.refresh_from_db()
    assert initiative.version == 2
    if patch.status_code == 200:
        assert patch["ETag"] == '"2"'
        assert (initiative.title, initiative.archived_at) == ("Patched", None)
    else:
        assert initiative.title == "Original"
        assert initiative.archived_at is not None
    # Version 2 names one content: the one saved, and the history has it once.
    history = _history(initiative)
    assert len(history) == 2
    assert history[-1] == (initiative.title, initiative.archived_at)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_archive_without_if_match_never_loses_a_racing_patch(clients, case, round_):
    member_client, staff_client = clients
    initiative = case()
    url = f"/api/initiatives/{initiative.reference}/"

    patch, archive = run_in_parallel(
        lambda: member_client.patch(url, {"title": "Patched"}, format="json", HTTP_IF_MATCH='"1"'),
        lambda: staff_client.delete(url),
    )

    assert archive.status_code == 204
    assert patch.status_code in (200, 412)
    initiative.refresh_from_db()
    assert initiative.archived_at is not None
    if patch.status_code == 200:
        # The archive came second and kept the edit it found.
        assert initiative.title == "Patched"
        assert initiative.version == 3
    else:
        assert initiative.title == "Original"
        assert initiative.version == 2
    assert _history(initiative)[-1] == (initiative.title, initiative.archived_at)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_restores_of_one_version_one_wins(staff, case, round_):
    from initiatives import services

    initiative = case()
    services.initiative_archive(initiative=initiative, by=staff, expected_version=1)
    seen = initiative.version

    def restore():
        mine = Initiative.objects.get(pk=initiative.pk)
        return services.initiative_restore(initiative=mine, by=staff, expected_version=seen)

    def restore_again():
        try:
            return restore()
        except services.StaleEdit as stale:
            return stale

    first, second = run_in_parallel(restore_again, restore_again)
    refused = [outcome for outcome in (first, second) if isinstance(outcome, services.StaleEdit)]
    assert len(refused) == 1
    assert refused[0].current_version == seen + 1
    initiative.refresh_from_db()
    assert (initiative.archived_at, initiative.version) == (None, seen + 1)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_participation_puts_with_one_etag_one_wins(clients, case, round_):
    member_client, staff_client = clients
    initiative = case()
    participation = add_participation(initiative, level="group")
    url = f"/api/initiatives/{initiative.reference}/participations/{participation.pk}/"
    etag = member_client.get(f"/api/initiatives/{initiative.reference}/")["ETag"]

    def put(client, level):
        body = {"phase": "design", "partner_type": "citizen", "level": level, "role": level}
        return lambda: client.put(url, body, format="json", HTTP_IF_MATCH=etag)

    first, second = run_in_parallel(
        put(member_client, "individual"), put(staff_client, "collective")
    )

    assert statuses([first, second]) == [200, 412]
    winner = first if first.status_code == 200 else second
    participation.refresh_from_db()
    assert participation.level == winner.json()["level"]
    initiative.refresh_from_db()
    assert initiative.version == 2
    assert winner["ETag"] == '"2"'


@pytest.mark.parametrize("path", ["accountability/", "budget/"])
@pytest.mark.parametrize("round_", range(2))
def test_two_framework_puts_with_one_etag_one_wins(clients, case, path, round_):
    member_client, staff_client = clients
    initiative = case()
    url = f"/api/initiatives/{initiative.reference}/{path}"
    field = "notes" if path == "accountability/" else "funding_sources"

    def put(client, text):
        return lambda: client.patch(url, {field: text}, format="json", HTTP_IF_MATCH='"1"')

    first, second = run_in_parallel(put(member_client, "Mine"), put(staff_client, "Theirs"))

    assert statuses([first, second]) == [200, 412]
    winner = first if first.status_code == 200 else second
    initiative.refresh_from_db()
    assert initiative.version == 2
    framework = getattr(initiative, path.rstrip("/"))
    assert getattr(framework, field) == winner.json()[field]
    if path == "accountability/":
        assert AccountabilityFramework.objects.filter(initiative=initiative).count() == 1


@pytest.mark.parametrize("if_match", [None, '"1"'])
def test_parallel_creates_of_one_participation_cell_give_no_500(clients, case, if_match):
    member_client, staff_client = clients
    initiative = case()
    url = f"/api/initiatives/{initiative.reference}/participations/"
    body = {"phase": "deliver", "partner_type": "cso", "level": "group"}
    headers = {"HTTP_IF_MATCH": if_match} if if_match else {}

    def create(client):
        return lambda: client.post(url, body, format="json", **headers)

    responses = run_in_parallel(*(create(c) for c in [member_client, staff_client] * 4))

    codes = statuses(responses)
    assert codes.count(201) == 1, codes
    # Without If-Match the others find the cell taken (409); with one, they are stale (412).
    assert set(codes) - {201} == ({409} if if_match is None else {412}), codes
    for response in responses:
        if response.status_code != 201:  # the API's JSON error, not an HTML page
            assert response.json()["code"] == ("conflict" if if_match is None else "stale")
    assert Participation.objects.filter(initiative=initiative).count() == 1
    initiative.refresh_from_db()
    assert initiative.version == 2


def test_two_site_saves_of_one_version_one_wins_one_is_told(member, organisation, case):
    initiative = case()
    url = reverse("initiatives:edit", args=[initiative.reference])

    def save(title, level):
        def call():
            client = Client()
            client.force_login(member)
            data = initiative_form_data(organisation, initiative, title=title)
            data["cell-design-citizen-level"] = level
            return client.post(url, data)

        return call

    first, second = run_in_parallel(save("First", "group"), save("Second", "collective"))

    assert statuses([first, second]) == [302, 409]
    stale = first if first.status_code == 409 else second
    assert "Someone else saved this initiative" in stale.content.decode()
    initiative.refresh_from_db()
    assert initiative.version == 2
    winner_title = "First" if first.status_code == 302 else "Second"
    winner_level = "group" if winner_title == "First" else "collective"
    assert initiative.title == winner_title
    cell = initiative.participations.get(phase="design", partner_type="citizen")
    assert cell.level == winner_level
