"""Reports are computed once per change of their data, and never shown older than it."""

import datetime
import io

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core import reportcache
from initiatives import services
from initiatives.models import Initiative, Participation
from survey.models import Item, Respondent, Response
from tests.factories import add_participation, answer

from .conftest import tag
from .helpers import csv_dicts

pytestmark = pytest.mark.django_db

STAGES = "/reports/maturity/?format=csv&table=stages"
SURVEY = "/reports/indicators.csv?wave=OECD-2010&question=barriers"


def stage_counts(client):
    return {row["stage"]: int(row["initiatives"]) for row in csv_dicts(client.get(STAGES))}


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200
        response.content if not response.streaming else b"".join(response.streaming_content)
    return len(queries)


def test_a_report_seen_twice_is_computed_once(client, cases):
    # The filter form's choices are read again; the report's aggregates are not.
    computed = queries_for(client, "/reports/maturity/?sector=07")
    again = queries_for(client, "/reports/maturity/?sector=07")
    assert again < computed
    first = client.get(STAGES).getvalue()
    assert client.get(STAGES).getvalue() == first


def test_each_filter_and_language_is_its_own_entry(client, cases):
    assert stage_counts(client)["embedded"] == 4
    fin = csv_dicts(client.get(STAGES + "&country=FIN"))
    assert {row["stage"]: row["initiatives"] for row in fin}["embedded"] == "3"
    # Each download read before the next request (its labels follow the active language).
    french = csv_dicts(client.get("/fr/reports/maturity/?format=csv&table=stages"))
    assert "Pilote" in {row["stage_label"] for row in french}
    english = csv_dicts(client.get(STAGES))
    assert "Pilot" in {row["stage_label"] for row in english}
    french_page = client.get("/fr/reports/maturity/").content.decode()
    assert "Pilote" in french_page
    assert "Pilote" not in client.get("/reports/maturity/").content.decode()


def test_a_stage_change_shows_at_once(client, staff, cases):
    before = stage_counts(client)
    services.initiative_change_stage(
        initiative=cases["D"],
        to_stage="embedded",
        by=staff,
        reason="made permanent",
        on=datetime.date(2024, 9, 1),
    )
    after = stage_counts(client)
    assert after["pilot"] == before["pilot"] - 1
    assert after["embedded"] == before["embedded"] + 1


def test_archiving_and_tags_and_deletions_show_at_once(client, staff, cases):
    before = stage_counts(client)
    services.initiative_archive(
        initiative=cases["A"], by=staff, expected_version=cases["A"].version
    )
    assert stage_counts(client)["embedded"] == before["embedded"] - 1

    url = "/reports/evidence/?format=csv&table=stages"
    pilots = {row["stage"]: row for row in csv_dicts(client.get(url))}["pilot"]
    tag(cases["D"], "barriers", "resistance")  # a many-to-many change
    again = {row["stage"]: row for row in csv_dicts(client.get(url))}["pilot"]
    assert again == pilots  # evidence does not read barriers: same figures, recomputed

    readiness = "/reports/readiness/?format=csv"
    client.force_login(staff)
    add_participation(cases["D2"], phase="design", partner_type="citizen")
    add_participation(cases["D2"], phase="deliver", partner_type="user")
    engaged = {row["title"]: row["engagement"] for row in csv_dicts(client.get(readiness))}
    assert engaged["D2"] == "yes"
    Participation.objects.filter(initiative=cases["D2"], phase="deliver").delete()
    # A queryset delete sends one signal per row: the next page sees it.
    engaged = {row["title"]: row["engagement"] for row in csv_dicts(client.get(readiness))}
    assert engaged["D2"] == "no"


def test_survey_records_deleted_in_the_admin_show_at_once(client, staff, wave):
    answer(wave, "FIN", "R1", "03", "barriers", {"resources": True})
    answer(wave, "FIN", "R2", "03", "barriers", {"resources": False})
    resources = {row["item"]: row for row in csv_dicts(client.get(SURVEY))}["resources"]
    assert (resources["affirmative"], resources["responses"]) == ("1", "2")

    client.force_login(staff)
    doomed = Respondent.objects.get(code="R2")
    response = client.post(
        f"/admin/survey/respondent/{doomed.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not Respondent.objects.filter(code="R2").exists()
    resources = {row["item"]: row for row in csv_dicts(client.get(SURVEY))}["resources"]
    assert (resources["affirmative"], resources["responses"]) == ("1", "1")

    response = client.post(
        "/admin/survey/response/",
        {
            "action": "delete_selected",
            "_selected_action": list(Response.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert response.status_code == 302
    resources = {row["item"]: row for row in csv_dicts(client.get(SURVEY))}["resources"]
    assert resources["responses"] == "0"


def test_bulk_writes_that_say_so_show_at_once(client, wave):
    assert {row["responses"] for row in csv_dicts(client.get(SURVEY))} == {"0"}
    person = Respondent.objects.create(wave=wave, country_id="FIN", code="BULK")
    Response.objects.bulk_create(
        Response(respondent=person, sector_id="03", item=item, affirmative=True)
        for item in Item.objects.filter(question__code="barriers")
    )
    reportcache.data_changed()  # what the bulk paths (import, generator, restore) do
    assert {row["responses"] for row in csv_dicts(client.get(SURVEY))} == {"1"}


def test_a_write_is_seen_by_its_own_transaction_and_by_others_only_after_commit(
    django_capture_on_commit_callbacks,
):
    computed = []

    def compute(value):
        computed.append(value)
        return value

    before = reportcache.generation()
    assert reportcache.cached(["key"], lambda: compute("before")) == "before"
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        reportcache.data_changed()
        # Nothing shared is touched inside the transaction (no lock on a database
        # cache); its own reads use a token of their own.
        assert cache_generation() == before
        inside = reportcache.generation()
        assert inside != before
        assert reportcache.cached(["key"], lambda: compute("inside")) == "inside"
        assert reportcache.cached(["key"], lambda: compute("again")) == "inside"
        reportcache.data_changed()  # a second write in the same transaction
        assert reportcache.cached(["key"], lambda: compute("second write")) == ("second write")
    assert len(callbacks) == 1  # one replacement per commit, however many writes
    assert reportcache.generation() not in (before, inside)
    assert reportcache.cached(["key"], lambda: compute("after commit")) == "after commit"
    assert reportcache.cached(["key"], lambda: compute("again")) == "after commit"
    assert computed == ["before", "inside", "second write", "after commit"]


def cache_generation():
    return reportcache.store().get(reportcache.GENERATION_KEY)


def test_a_rolled_back_write_leaves_no_trace(django_capture_on_commit_callbacks):
    before = reportcache.generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        reportcache.data_changed()
        kept = reportcache.generation()
        assert reportcache.cached(["key"], lambda: "outer write") == "outer write"
        try:
            with transaction.atomic():
                reportcache.data_changed()
                assert reportcache.cached(["key"], lambda: "undone") == "undone"
                raise RuntimeError
        except RuntimeError:
            pass
        # Back to the state before the savepoint, and to its entries.
        assert reportcache.generation() == kept
        assert reportcache.cached(["key"], lambda: "recomputed") == "outer write"
        transaction.set_rollback(True)
    assert callbacks == []
    assert reportcache.generation() == before
    assert reportcache.cached(["key"], lambda: "committed state") == "committed state"


def test_a_lost_generation_never_brings_back_old_entries(db):
    first = reportcache.generation()
    assert reportcache.cached(["k"], lambda: 1) == 1
    reportcache.store().delete(reportcache.GENERATION_KEY)  # evicted
    assert reportcache.generation() != first
    assert reportcache.cached(["k"], lambda: 2) == 2


def test_reports_have_a_cache_of_their_own_that_cannot_evict_counters(settings, db):
    # Many report entries (each filter combination is one) in the report cache leave the
    # rate-limit and throttle counters in the default cache alone.
    default, reports = caches["default"], reportcache.store()
    assert default is not reports
    default.set("ratelimit-counter", 3)
    for day in range(400):
        reportcache.cached(["maturity", f"2024-01-01+{day}"], lambda: "figures")
    assert default.get("ratelimit-counter") == 3
    # Keys stay short whatever the parameters are.
    long_key = reportcache.key("reports", ["maturity", "x" * 10_000])
    assert len(long_key) < 120


def test_cache_can_be_turned_off(client, settings, cases):
    settings.REPORT_CACHE_SECONDS = 0
    computed = queries_for(client, "/reports/maturity/")
    assert queries_for(client, "/reports/maturity/") == computed


def test_changes_made_by_the_workflows_reach_every_report(client, staff, cases):
    """One pass over the report pages, a change through the services, and again."""
    pages = [
        "/reports/maturity/?format=csv&table=countries",
        "/reports/maturity/indicators/?format=csv&question=factors",
        "/reports/countries/FIN/?format=csv&table=sectors",
        "/reports/evidence/?format=csv&table=stages",
    ]
    before = {url: client.get(url).getvalue() for url in pages}
    initiative = Initiative.objects.get(pk=cases["G"].pk)
    services.initiative_change_stage(
        initiative=initiative,
        to_stage="pilot",
        by=staff,
        reason="started",
        on=datetime.date(2024, 6, 1),
    )
    after = {url: client.get(url).getvalue() for url in pages}
    assert all(after[url] != before[url] for url in pages)


def test_an_import_shows_at_once(client, wave):
    from survey.imports import import_survey

    assert {row["responses"] for row in csv_dicts(client.get(SURVEY))} == {"0"}
    source = io.BytesIO(
        b"wave,country,respondent,sector,question,item,answer\n"
        b"OECD-2010,FIN,IMP1,03,barriers,resources,yes\n"
    )
    assert import_survey(source).ok
    resources = {row["item"]: row for row in csv_dicts(client.get(SURVEY))}["resources"]
    assert (resources["affirmative"], resources["responses"]) == ("1", "1")


def test_writes_the_reports_do_not_read_keep_them(client, staff, cases):
    computed = queries_for(client, "/reports/maturity/")
    cached = queries_for(client, "/reports/maturity/")
    assert cached < computed
    # A sign-in (its last_login and security record) is not report data.
    client.force_login(staff)
    client.logout()
    from initiatives.models import SecurityEvent

    SecurityEvent.objects.create(kind="sign_in", username="someone")
    assert queries_for(client, "/reports/maturity/") == cached
