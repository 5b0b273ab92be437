"""An import killed half-way (SIGKILL, as when a machine or container dies) leaves the
database exactly as it was: the import is one transaction, and PostgreSQL discards it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from survey.models import Respondent, Response, Wave

ROOT = Path(__file__).resolve().parents[2]
ROWS = 40_000
ITEMS = [
    ("reasons", "involvement"),
    ("reasons", "quality"),
    ("barriers", "resources"),
    ("barriers", "evidence"),
    ("factors", "leadership"),
]


def _write_file(path):
    with open(path, "w", encoding="utf-8") as out:
        out.write("wave,country,respondent,sector,question,item,answer\n")
        written = 0
        respondent = 0
        while written < ROWS:
            respondent += 1
            for sector in ("03", "07"):
                for question, item in ITEMS:
                    answer = "yes" if (respondent + len(item)) % 3 else "no"
                    out.write(f"KILL-1,FIN,resp-{respondent},{sector},{question},{item},{answer}\n")
                    written += 1


def _url():
    config = connection.settings_dict
    user = config["USER"] or "postgres"
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    host, port = config["HOST"] or "127.0.0.1", config["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{config['NAME']}"


def _snapshot():
    return (
        sorted(Wave.objects.values_list("code", flat=True)),
        Respondent.objects.count(),
        Response.objects.count(),
        sorted(Response.objects.values_list("pk", "affirmative")),
    )


def _wait_for_rollback(watcher, pid):
    """PostgreSQL notices the vanished client and rolls its transaction back."""
    for _ in range(600):
        alive = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()[0]
        if not alive:
            return
        time.sleep(0.1)
    watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
    pytest.fail("the killed import's transaction was still running after a minute")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_import_killed_while_writing_leaves_the_database_as_before(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("kills a second connection mid-transaction; CI runs this on PostgreSQL")
    survey_file = tmp_path / "big.csv"
    _write_file(survey_file)
    before = _snapshot()
    env = {**os.environ, "DATABASE_URL": _url(), "SECRET_KEY": "import-kill-test"}
    importer = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "import_survey", str(survey_file), "--create-wave"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watcher = psycopg.connect(_url().replace("postgres://", "postgresql://"), autocommit=True)
    caught = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and importer.poll() is None:
            row = watcher.execute(
                "SELECT pid, query FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'active' AND backend_xid IS NOT NULL "
                "AND query ILIKE 'INSERT INTO survey_re%'"
            ).fetchone()
            if row:
                caught = row
                importer.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
        importer.wait(timeout=60)
        assert caught, "the import finished (or never wrote) before it could be interrupted"
        assert importer.returncode == -signal.SIGKILL
        _wait_for_rollback(watcher, caught[0])
    finally:
        if importer.poll() is None:
            importer.kill()
        watcher.close()
    assert _snapshot() == before
    assert not Wave.objects.filter(code="KILL-1").exists()


# A bulk load (`import_survey --bulk`) drops survey_response's key to the respondents and
# its secondary indexes and builds them again; it pauses there so that the kill lands then.
LARGE_LOAD_CHILD = """
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coprod_site.settings")
import django
django.setup()
from django.core.management import call_command
from django.db import connection
def pause_before_rebuilding(execute, sql, params, many, context):
    if sql.startswith("CREATE INDEX response_"):
        time.sleep(600)
    return execute(sql, params, many, context)
with connection.execute_wrapper(pause_before_rebuilding):
    call_command("import_survey", sys.argv[1], create_wave=True, bulk=True)
"""


def _schema(cursor):
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
        "WHERE conrelid = 'survey_response'::regclass ORDER BY conname"
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'survey_response' "
        "ORDER BY indexname"
    )
    return constraints, cursor.fetchall()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_import_killed_while_rebuilding_keeps_constraints_and_indexes(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("kills a second connection mid-transaction; CI runs this on PostgreSQL")
    survey_file = tmp_path / "big.csv"
    _write_file(survey_file)
    before = _snapshot()
    watcher = psycopg.connect(_url().replace("postgres://", "postgresql://"), autocommit=True)
    schema_before = _schema(watcher.cursor())
    env = {**os.environ, "DATABASE_URL": _url(), "SECRET_KEY": "import-kill-test"}
    importer = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", LARGE_LOAD_CHILD, str(survey_file)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        caught = None
        while time.monotonic() < deadline and importer.poll() is None:
            caught = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL "
                "AND query ILIKE 'INSERT INTO survey_response%'"
            ).fetchone()
            if caught:
                break
            time.sleep(0.05)
        assert caught, "the import finished (or never wrote) before it could be interrupted"
        time.sleep(0.5)  # into the pause, the constraints and indexes dropped
        rebuilding = watcher.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND mode = 'AccessExclusiveLock' "
            "AND relation = 'survey_response'::regclass",
            [caught[0]],
        ).fetchone()[0]
        importer.send_signal(signal.SIGKILL)
        importer.wait(timeout=60)
        _wait_for_rollback(watcher, caught[0])
        assert rebuilding, "the import did not take the large-load path"
        assert _schema(watcher.cursor()) == schema_before
    finally:
        if importer.poll() is None:
            importer.kill()
        watcher.close()
    assert _snapshot() == before
    assert not Wave.objects.filter(code="KILL-1").exists()
