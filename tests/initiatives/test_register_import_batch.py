"""New initiatives of a register are written a batch at a time: the same records, history
rows and refusals as through the services one row at a time, in a number of queries that
does not grow with the rows."""

import csv
import io
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from initiatives.imports import import_initiatives
from initiatives.models import (
    AccountabilityFramework,
    BudgetFramework,
    Initiative,
    Participation,
    StageChange,
)
from survey.models import Item

pytestmark = pytest.mark.django_db

TAGS = ("objectives", "barriers", "barriers_addressed", "factors")
HEADER = [
    "title",
    "summary",
    "country",
    "sector",
    "level",
    "organisation",
    "start_date",
    "end_date",
    "participants",
    "participation_levels",
    *TAGS,
    "stage_history",
    "accountable_body",
    "roles_written",
    "budget",
    "currency",
    "funded_beyond_pilot",
]
#: Compared as booleans or left out: they differ between any two imports.
MOMENTS = {"created_at", "updated_at", "history_date", "changed_at", "confirmed_at"}
IDS = {"id", "history_id", "reference", "initiative_id", "initiative"}


def codes(question):
    return list(Item.objects.filter(question__code=question).values_list("code", flat=True))


def register(count, organisation, overrides=None):
    """`count` new initiatives; `overrides` is {(index, column): value}."""
    reasons, barriers, factors = codes("reasons"), codes("barriers"), codes("factors")
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER)
    writer.writeheader()
    for number in range(count):
        row = {
            "title": f"Initiative {number}",
            "summary": "Together" if number % 2 else "",
            "country": ["FIN", "GBR", "FRA"][number % 3],
            "sector": f"{number % 9 + 1:02d}",
            "level": ["local", "regional", "national"][number % 3],
            "organisation": organisation.name if number % 2 else "",
            "start_date": "2019-01-01" if number % 3 else "",
            "participants": str(number * 10) if number % 4 else "",
            "participation_levels": "design:citizen:group|deliver:cso:collective"
            if number % 3
            else "",
            "objectives": reasons[number % len(reasons)] if number % 2 else "",
            "barriers": "|".join(barriers[:2]) if number % 3 else "",
            "barriers_addressed": barriers[0] if number % 3 == 1 else "",
            "factors": "|".join(factors[number % 3 : number % 3 + 2]),
            "stage_history": "planned:2019-03-01|pilot:2020-01-15"
            if number % 2
            else "planned:2018-05-01",
            "accountable_body": "Council" if number % 2 else "",
            "roles_written": "yes" if number % 4 == 1 else "no",
            "budget": "1234.50" if number % 3 == 2 else "",
            "currency": "eur" if number % 3 == 2 else "",
            "funded_beyond_pilot": "yes" if number % 5 == 0 else "",
        }
        for (index, column), value in (overrides or {}).items():
            if index == number:
                row[column] = value
        writer.writerow(row)
    return SimpleUploadedFile("register.csv", out.getvalue().encode())


def plain(record, fields):
    values = {}
    for name in fields:
        if name in IDS:
            continue
        value = getattr(record, name)
        values[name] = value is not None if name in MOMENTS else value
    return values


def fields_of(model):
    return [f.attname for f in model._meta.concrete_fields]


def snapshot(references):
    """Every record and history row the import wrote for `references`, without ids."""
    result = []
    for reference in references:
        initiative = Initiative.objects.get(reference=reference)
        history = []
        for record in initiative.history.order_by("history_id"):
            tags = {f: sorted(getattr(record, f).values_list("item_id", flat=True)) for f in TAGS}
            history.append((plain(record, fields_of(type(record))), tags))
        parts = []
        for model, rows in (
            (StageChange, initiative.stage_changes.order_by("changed_on")),
            (Participation, initiative.participations.order_by("phase", "partner_type")),
            (
                AccountabilityFramework,
                AccountabilityFramework.objects.filter(initiative=initiative),
            ),
            (BudgetFramework, BudgetFramework.objects.filter(initiative=initiative)),
        ):
            for row in rows:
                parts.append((model.__name__, plain(row, fields_of(model))))
                for record in row.history.order_by("history_id"):
                    parts.append(("history", plain(record, fields_of(type(record)))))
        result.append(
            (
                plain(initiative, fields_of(Initiative)),
                {f: sorted(getattr(initiative, f).values_list("pk", flat=True)) for f in TAGS},
                history,
                parts,
            )
        )
    return result


def test_a_batch_writes_the_records_and_history_rows_the_services_write(
    staff, organisation, monkeypatch
):
    monkeypatch.setattr("initiatives.imports.BATCH_ROWS", 0)
    one_by_one = import_initiatives(register(12, organisation), by=staff)
    monkeypatch.setattr("initiatives.imports.BATCH_ROWS", 5)
    batched = import_initiatives(register(12, organisation), by=staff)

    assert one_by_one.ok, one_by_one.errors
    assert batched.ok, batched.errors
    assert [line for line, _ref in batched.created] == [line for line, _ref in one_by_one.created]
    expected = snapshot(ref for _line, ref in one_by_one.created)
    written = snapshot(ref for _line, ref in batched.created)
    assert written == expected
    # The references follow one another in the file's order, after those handed out before.
    numbers = [int(ref.rsplit("-", 1)[1]) for _line, ref in batched.created]
    assert numbers == list(range(13, 25))


def test_every_history_row_of_a_batch_names_the_importer(staff, organisation):
    result = import_initiatives(register(6, organisation), by=staff)

    assert result.ok, result.errors
    for model in (Initiative, StageChange, Participation, BudgetFramework):
        users = set(model.history.values_list("history_user", flat=True))
        assert users == {staff.pk}, model


BAD = {
    (1, "end_date"): "2018-01-01",  # the model's rule: before the start date
    (2, "currency"): "",  # the budget framework's rule: an amount needs its currency
    (4, "barriers_addressed"): "nonsense",  # an unknown item
    (5, "currency"): "EURO",  # the framework's rule on the code
    (6, "stage_history"): "pilot:2020-01-01|planned:2019-01-01",  # the history's dates
    (7, "barriers"): "",  # the tag rule: addressed only if met
}


def test_a_batch_refuses_the_rows_the_services_refuse_with_the_same_messages(
    staff, organisation, monkeypatch
):
    monkeypatch.setattr("initiatives.imports.BATCH_ROWS", 0)
    one_by_one = import_initiatives(register(9, organisation, BAD), by=staff)
    monkeypatch.setattr("initiatives.imports.BATCH_ROWS", 500)
    batched = import_initiatives(register(9, organisation, BAD), by=staff)

    def verdicts(result):
        return [(p.line, p.column, p.where, p.message) for p in result.errors]

    assert not batched.ok
    assert len(batched.errors) == len(BAD)
    assert verdicts(batched) == verdicts(one_by_one)
    assert [line for line, _ref in batched.created] == [line for line, _ref in one_by_one.created]
    assert not Initiative.objects.exists()


def statements(queries):
    """{(statement, table): how many}, savepoints left out."""
    found = Counter()
    for query in queries:
        words = query["sql"].split()
        if words[0] in ("INSERT", "UPDATE", "SELECT", "DELETE"):
            table = next(
                (w for w in words if w.startswith('"initiatives_') or w.startswith('"survey_')), ""
            )
            found[(words[0], table.split(".")[0])] += 1
    return found


def test_the_queries_of_a_batch_do_not_grow_with_its_rows(staff, organisation):
    import_initiatives(register(1, organisation), by=staff)  # the year's reference sequence
    counted = {}
    for rows in (10, 50):
        with CaptureQueriesContext(connection) as queries:
            result = import_initiatives(register(rows, organisation), by=staff, dry_run=True)
        assert result.ok, result.errors
        counted[rows] = statements(queries)

    few, many = counted[10], counted[50]
    assert sum(few.values()) < 40, few
    assert {k: v for k, v in many.items() if k[0] != "INSERT"} == {
        k: v for k, v in few.items() if k[0] != "INSERT"
    }
    assert set(many) == set(few)
    if connection.vendor == "postgresql":
        assert many == few
    else:
        # SQLite takes at most 999 values in one statement, so Django splits an insert of
        # many rows into several: a few more statements, still not one per row.
        assert sum(many.values()) < sum(few.values()) + 10, (few, many)


def test_without_ids_back_from_inserts_each_row_goes_through_the_services(
    staff, organisation, monkeypatch
):
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    monkeypatch.setattr(
        "initiatives.imports.Batch.add", lambda *args: pytest.fail("no batch without ids")
    )

    result = import_initiatives(register(3, organisation), by=staff)

    assert result.ok, result.errors
    assert Initiative.objects.count() == 3
