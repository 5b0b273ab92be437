"""A bulk import (`--bulk`, PostgreSQL) drops survey_response's key to the respondents and
its secondary indexes for its INSERT and puts them back, under the same names and
definitions; any failure restores them. It never locks a table the initiative pages read,
and only the management command's option takes that path."""

import io

import psycopg
import pytest
from django.db import connection, transaction

import survey.importstaging as importstaging
from survey.imports import import_survey
from survey.models import Response

from .test_imports import csv_file, messages, snapshot

pytestmark = pytest.mark.django_db(transaction=False)

ROWS = (
    "OECD-2010,FIN,fi-1,03,barriers,resources,yes",
    "OECD-2010,FIN,fi-1,03,barriers,resistance,no",
    "OECD-2010,CAN,ca-1,07,barriers,resources,yes",
)


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the bulk path exists on PostgreSQL only")


def bulk_import(source, **options):
    return import_survey(source, bulk=True, **options)


@pytest.fixture
def statements():
    """Every SQL statement run while the test runs."""
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(" ".join(sql.split()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


def schema():
    """survey_response's constraints and indexes, as PostgreSQL describes them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid), convalidated, condeferrable, "
            "condeferred FROM pg_constraint WHERE conrelid = 'survey_response'::regclass "
            "ORDER BY conname"
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'survey_response' "
            "ORDER BY indexname"
        )
        return constraints, cursor.fetchall()


def rebuilt(seen):
    return any(sql.startswith("DROP INDEX") for sql in seen)


def test_a_large_load_puts_back_every_constraint_and_index(statements):
    before = schema()
    assert len(before[0]) == 5
    assert len(before[1]) == 4
    result = bulk_import(
        csv_file(*ROWS, "NEW-2030,FIN,fi-9,01,barriers,time,yes"),
        create_wave=True,
        create_items=True,
    )
    assert result.ok, result.errors
    assert rebuilt(statements)
    assert result.responses_created == 4
    assert schema() == before
    assert ("NEW-2030", "FIN", "fi-9", "01", "barriers", "time", True) in snapshot()


def test_the_foreign_keys_put_back_are_enforced():
    assert bulk_import(csv_file(*ROWS)).ok
    response = Response.objects.first()
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT probe")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            cursor.cursor.execute(
                "UPDATE survey_response SET respondent_id = -1 WHERE id = %s", [response.pk]
            )
        cursor.execute("ROLLBACK TO SAVEPOINT probe")


def test_a_failure_during_a_large_load_leaves_table_constraints_and_indexes_as_they_were():
    assert bulk_import(csv_file(ROWS[0])).ok
    before, rows_before = schema(), snapshot()

    def fail_while_rebuilding(execute, sql, params, many, context):
        if sql.startswith("CREATE INDEX response_"):
            raise RuntimeError("disk full")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_while_rebuilding), pytest.raises(RuntimeError):
        bulk_import(csv_file(*ROWS[1:]))
    assert schema() == before
    assert snapshot() == rows_before


def test_problems_are_still_reported_by_line_and_nothing_is_dropped(statements):
    before = schema()
    result = bulk_import(
        csv_file(
            *ROWS,
            "OECD-2010,XXX,fi-2,03,barriers,resources,yes",
            "OECD-2010,FIN,fi-1,3,barriers,resources,no",
        )
    )
    assert messages(result) == [(5, "country", "XXX"), (6, "item", "resources")]
    assert "line 2" in result.errors[1]["message"]
    assert not rebuilt(statements)
    assert schema() == before
    assert Response.objects.count() == 0


def test_without_the_option_even_a_large_load_goes_row_by_row(statements):
    # No size heuristic: an upload through the admin or the API never rebuilds anything.
    result = import_survey(csv_file(*ROWS))
    assert result.ok
    assert result.responses_created == 3
    assert not rebuilt(statements)
    assert not any("LOCK TABLE" in sql for sql in statements)


def test_only_the_management_command_offers_the_bulk_path(tmp_path, statements):
    from django.core.management import call_command

    path = tmp_path / "survey.csv"
    path.write_bytes(csv_file(*ROWS).getvalue())
    call_command("import_survey", str(path), "--bulk", stdout=io.StringIO())
    assert rebuilt(statements)
    assert Response.objects.count() == 3


def locks_held():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relation::regclass::text, mode FROM pg_locks "
            "WHERE pid = pg_backend_pid() AND locktype = 'relation'"
        )
        return cursor.fetchall()


def test_a_bulk_load_locks_no_table_the_initiative_pages_read():
    with transaction.atomic():
        assert bulk_import(csv_file(*ROWS)).ok
        exclusive = {table for table, mode in locks_held() if mode == "AccessExclusiveLock"}
        # Until COMMIT: the survey's records only.
        assert exclusive & {"survey_response", "survey_respondent"}
        assert not exclusive & {"survey_sector", "survey_item", "survey_country"}
        assert not any(table.startswith("initiatives_") for table in exclusive)
        blocking = {
            table
            for table, mode in locks_held()
            if mode in ("AccessExclusiveLock", "ExclusiveLock")
        }
        assert not blocking & {"survey_sector", "survey_item"}


def test_a_bulk_load_puts_back_every_session_setting_it_changed():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '7s'")
        assert bulk_import(csv_file(*ROWS)).ok
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "7s"
        # Foreign keys are checked at COMMIT again, as Django declares them: a broken
        # reference is not refused at once.
        cursor.execute("SAVEPOINT probe")
        cursor.execute(
            "UPDATE survey_response SET respondent_id = -1 WHERE id = %s",
            [Response.objects.first().pk],
        )
        cursor.execute("ROLLBACK TO SAVEPOINT probe")


def test_a_large_load_does_not_queue_behind_a_long_reader(monkeypatch, statements):
    monkeypatch.setattr(importstaging, "BULK_LOCK_TIMEOUT_MS", 100)
    config = connection.settings_dict
    before = schema()
    reader = psycopg.connect(
        dbname=config["NAME"],
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
    )
    try:
        reader.execute("SELECT count(*) FROM survey_respondent")  # holds its lock until rollback
        result = bulk_import(csv_file(*ROWS))
    finally:
        reader.rollback()
        reader.close()
    assert result.ok, result.errors
    assert not rebuilt(statements)
    assert result.responses_created == 3
    assert schema() == before


def test_a_large_load_beside_stored_answers_replaces_and_keeps_them(statements):
    assert bulk_import(csv_file(*ROWS)).ok
    before = schema()
    statements.clear()
    result = bulk_import(
        csv_file(
            "OECD-2010,FIN,fi-1,03,barriers,resources,no",
            ROWS[1],
            "OECD-2010,FIN,fi-1,05,barriers,resources,yes",
        ),
        replace=True,
    )
    assert result.ok, result.errors
    assert rebuilt(statements)
    assert (result.responses_replaced, result.responses_unchanged) == (1, 1)
    assert result.responses_created == 1
    assert schema() == before
    assert Response.objects.count() == 4
    assert not Response.objects.get(sector="03", item__code="resources").affirmative
