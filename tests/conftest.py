import os
import uuid
from pathlib import Path

import pytest

from tests.factories import MembershipFactory, OrganisationFactory, StaffFactory, UserFactory


@pytest.fixture(scope="session")
def _media_base(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, _media_base):
    # A folder of its own for each test's uploads. Not `tmp_path`: pytest numbers those by
    # listing every one made before, which grows with each of a worker's thousands of tests.
    settings.MEDIA_ROOT = _media_base / uuid.uuid4().hex


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    # Real hashing costs about a second per user on these machines; tests make hundreds,
    # module-scoped fixtures included (hence the whole session).
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit and throttle counters live in the cache; one test's requests must not
    # use up the next test's allowance. Cached reports and pages start over too (a
    # database flushed between tests sends no signal).
    from django.core.cache import caches

    for alias in ("default", "reports"):
        caches[alias].clear()


@pytest.fixture(autouse=True)
def _default_language():
    # A test that switches the thread to French (a request with a French prefix, an
    # `activate("fr")`) must not leave it French for the next test the worker runs.
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Pages link their CSS through the static storage; the hashed manifest only exists
    # after collectstatic, which a test run does not do.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def postgresql_only():
    """Race tests need real parallel connections; SQLite serialises every writer."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writers; real parallel connections need PostgreSQL")


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def organisation(db):
    return OrganisationFactory()


@pytest.fixture
def member(db, organisation):
    return MembershipFactory(organisation=organisation).user


@pytest.fixture
def other_member(db):
    return MembershipFactory(organisation=OrganisationFactory(name="Other Group")).user


@pytest.fixture
def user(db):
    return UserFactory()


# Browser tests drive the system Chromium with Playwright (never a downloaded browser).
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def _allow_orm_beside_playwright(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself (fixtures, assertions) are still plain synchronous calls. Set for
    # browser tests only: left in the environment it would reach subprocesses (such as
    # `check --deploy`) and the tests that run after.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(_allow_orm_beside_playwright):
    """One headless Chromium per test, closed at its end: while Playwright runs, this thread
    has an event loop, which other tests' own Playwright sessions and database set-up must
    not inherit. Skips the test when the machine has no Chromium.

    With that loop running, Django keeps this thread's database connections apart from its
    usual ones (per context, not per thread), so the test's own queries open a connection
    of their own. It is closed here, while the loop still runs: left open, it would keep the
    test database from being dropped at the end of the run."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        connections.close_all()
        browser.close()


# Tests that take seconds each: `-m "not slow"` leaves them out of a quick run; `make test`
# and CI run them all.
SLOW_MODULES = {
    "tests/api/test_schema.py",  # schema fuzzing (schemathesis)
    "tests/faults/test_import_interrupted.py",  # kills an import in a subprocess
    "tests/faults/test_backup_restore.py",
    "tests/faults/test_worker_killed.py",  # kills real job workers mid-import
    "tests/security/test_deploy.py",  # starts Django in subprocesses
    "tests/initiatives/test_seed_demo.py",
    # pytest in subprocesses: how the suite itself is run
    "tests/suite/test_markers.py",
    "tests/suite/test_parallel_runs.py",
    "tests/suite/test_xdist_groups.py",
}


# Tests of what differs between PostgreSQL and SQLite: the code that asks which database it
# is on (bulk loads and COPY, streamed exports, SQL aggregates, database errors, locks and
# races) and the tests that count queries or compare figures computed in SQL. `.ci/run` runs
# these on SQLite as well as PostgreSQL; the rest (pages, permissions, headers, the browser)
# reaches the database through the same ORM calls on both, and runs on PostgreSQL.
BOTH_DATABASES = (
    "tests/core/",
    "tests/faults/",
    "tests/perf/",
    "tests/reports/",
    "tests/survey/",
    "tests/api/test_concurrency.py",
    "tests/api/test_queries.py",
    "tests/api/test_survey.py",
    "tests/api/test_write_races.py",
    "tests/initiatives/test_filters.py",
    "tests/initiatives/test_history_diff.py",
    "tests/initiatives/test_register_export.py",
    "tests/initiatives/test_register_import.py",
    "tests/initiatives/test_seed_demo.py",
    "tests/portal/test_browse_and_export.py",
    "tests/portal/test_export_limits.py",
    "tests/security/test_os_errors.py",
    "tests/security/test_purge.py",
)


# Files whose tests are independent cells of one table over a world built per worker (a
# module-scoped fixture), or parts of one long check that each build their own world (the
# browser's tour of every page): `make test` spreads their tests over the workers one by one. Every
# other file goes to one worker whole (`--dist loadgroup`, one group per file), as a file's
# module-scoped servers, ports, Redis database or subprocesses may assume.
SPLIT_ACROSS_WORKERS = {
    "tests/security/test_permission_table.py",
    "tests/security/test_every_url.py",
    "tests/core/test_layering.py",
    "tests/browser/test_every_page.py",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark the slow and the both-databases tests, and give each file its xdist group (but
    for the tables above): before `-m` selects by marker and xdist reads the groups."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path not in SPLIT_ACROSS_WORKERS:
            item.add_marker(pytest.mark.xdist_group(path))
        if (
            path in SLOW_MODULES
            or item.get_closest_marker("browser")
            or item.get_closest_marker("multi_instance")
        ):
            item.add_marker(pytest.mark.slow)
        if path.startswith(BOTH_DATABASES) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.both_databases)


class _SlowFilesFirst:
    """Put the slow files first, after pytest-django's own ordering.

    `make test` hands whole files to its xdist workers in collection order; slow files last
    would leave one worker finishing them while the other sits idle. The order within a file
    stays; a file's flush of the migrations' data is undone after it whatever comes next
    (`pytest_runtest_teardown`). A plugin object of its own: pytest reads only the hooks
    named `pytest_*` of a conftest, one function a name, and this one must run last.
    """

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_configure(config):
    config.pluginmanager.register(_SlowFilesFirst(), "coprod-slow-files-first")


def _flushes_the_database(item):
    """Whether pytest-django runs `item` as a TransactionTestCase, which empties every table at
    its end (the rules of `pytest_django.fixtures._django_db_helper`)."""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


def _reloads_the_migrations_data(item):
    """Whether `item` loads the migrations' data itself as it starts (serialized rollback)."""
    marker = item.get_closest_marker("django_db")
    return _flushes_the_database(item) and bool(
        (marker and marker.kwargs.get("serialized_rollback"))
        or "django_db_serialized_rollback" in getattr(item, "fixturenames", ())
    )


@pytest.fixture(scope="session", autouse=True)
def _db_blocker_for_hooks(request, django_db_blocker):
    request.config.stash[_DB_BLOCKER] = django_db_blocker


_DB_BLOCKER = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put the migrations' data (the seeded vocabulary, the staff roles) back after a
    transactional test has flushed it.

    `serialized_rollback=True` restores that data at the start of the next transactional
    test only, which is enough when every transactional test runs last, as pytest-django
    orders them in one process. Under pytest-xdist a worker runs whole files in the order it
    is handed them, so an ordinary test may come after the flush: it would find no countries,
    sectors or questions. Loaded again here, the database is as the migrations left it
    (unless the next test loads it itself, or there is no next test)."""
    result = yield
    blocker = item.config.stash.get(_DB_BLOCKER, None)
    if (
        blocker is not None
        and nextitem is not None
        and _flushes_the_database(item)
        and not _reloads_the_migrations_data(nextitem)
    ):
        from django.db import connections

        with blocker.unblock():
            for connection in connections.all():
                contents = getattr(connection, "_test_serialized_contents", None)
                if contents:
                    connection.creation.deserialize_db_from_string(contents)
    return result


@pytest.fixture(scope="module")
def module_transaction(django_db_setup, django_db_blocker):
    """A transaction around a whole module, rolled back at its end: data made once in it
    (by a module-scoped fixture) is seen by each test, whose own transaction is a savepoint
    inside it, as Django's `TestCase.setUpTestData` does."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
