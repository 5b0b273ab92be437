"""A large import on PostgreSQL drops survey_response's foreign keys and secondary indexes for
its INSERT and puts them back, under the same names and definitions; any failure restores them.

The thresholds are lowered so that a few rows take that path."""

import psycopg
import pytest
from django.db import connection

import survey.imports as imports
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
def large_load_from_one_row(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the large-load path exists on PostgreSQL only")
    monkeypatch.setattr(imports, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(imports, "BULK_SHARE", 0)


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
    result = import_survey(
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
    assert import_survey(csv_file(*ROWS)).ok
    response = Response.objects.first()
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT probe")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            cursor.cursor.execute(
                "UPDATE survey_response SET item_id = -1 WHERE id = %s", [response.pk]
            )
        cursor.execute("ROLLBACK TO SAVEPOINT probe")


def test_a_failure_during_a_large_load_leaves_table_constraints_and_indexes_as_they_were():
    assert import_survey(csv_file(ROWS[0])).ok
    before, rows_before = schema(), snapshot()

    def fail_while_rebuilding(execute, sql, params, many, context):
        if sql.startswith("CREATE INDEX response_"):
            raise RuntimeError("disk full")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_while_rebuilding), pytest.raises(RuntimeError):
        import_survey(csv_file(*ROWS[1:]))
    assert schema() == before
    assert snapshot() == rows_before


def test_problems_are_still_reported_by_line_and_nothing_is_dropped(statements):
    before = schema()
    result = import_survey(
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


def test_a_load_small_beside_the_stored_rows_goes_row_by_row(monkeypatch, statements):
    assert import_survey(csv_file(*ROWS)).ok
    statements.clear()
    monkeypatch.setattr(imports, "BULK_SHARE", 10)  # ten times what is stored: never here
    assert import_survey(csv_file("OECD-2010,FIN,fi-3,05,barriers,resources,no")).ok
    assert not rebuilt(statements)
    assert Response.objects.count() == 4


def test_a_large_load_does_not_queue_behind_a_long_reader(monkeypatch, statements):
    monkeypatch.setattr(imports, "BULK_LOCK_TIMEOUT_MS", 100)
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
        reader.execute("SELECT count(*) FROM survey_item")  # holds its lock until rollback
        result = import_survey(csv_file(*ROWS))
    finally:
        reader.rollback()
        reader.close()
    assert result.ok, result.errors
    assert not rebuilt(statements)
    assert result.responses_created == 3
    assert schema() == before


def test_a_large_load_beside_stored_answers_replaces_and_keeps_them(statements):
    assert import_survey(csv_file(*ROWS)).ok
    before = schema()
    statements.clear()
    result = import_survey(
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
