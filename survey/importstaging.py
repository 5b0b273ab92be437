"""The staging table of a survey import, and everything done on it at once, for `imports.py`.

The valid rows of the file go to a temporary table (`Staging`), by COPY on PostgreSQL and
by batched inserts on SQLite. The checks that need the whole file (duplicates inside it, a
respondent given two countries, clashes with what is already stored) are set-based queries
on it (`check_whole_file`), and so is the write itself (`write`: INSERT ... SELECT and
UPDATE ... FROM). Each check that usually finds nothing is first answered cheaply (a unique
index, the file's respondents summarised, or, when all of them are new, survey_response's
own unique constraint during the write), and only a file with problems pays for listing
them.

A bulk load (`bulk=True`, the `--bulk` option of `manage.py import_survey` and nothing
else: never chosen by size, never from a web request) on PostgreSQL drops survey_response's
foreign key to survey_respondent and its secondary indexes for the INSERT and creates them
again after: one join checks the key and one sort builds each index, instead of a check and
index updates per row. That takes ACCESS EXCLUSIVE locks on survey_response and
survey_respondent until COMMIT, so for the last seconds of such an import the survey's
record pages and API wait. The foreign keys to survey_sector and survey_item stay: dropping
them would lock those tables too, and the initiative pages and reports read them (an
initiative's sector, its tags). If another transaction holds one of the locked tables for
more than BULK_LOCK_TIMEOUT_MS, the import writes row by row instead, without the locks.
Every session setting the bulk path changes is put back.
"""

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils.translation import gettext as _

from .importrows import MAX_ERRORS, Errors, Problem, StagedRow, shown
from .models import Response

if TYPE_CHECKING:
    from .imports import ImportResult

BATCH_SIZE = 20000
# A bulk load (see the module docstring and `_rebuilt_for_bulk`). Measured on 1M stored
# responses: 300k new ones load about as fast either way, 500k twice as fast rebuilt.
BULK_LOCK_TIMEOUT_MS = 5_000
# Tables a bulk load may lock: the survey's records, which no initiative page reads.
BULK_LOCKABLE = ("survey_response", "survey_respondent")

#: A set-based check: the query selecting (line, value, detail), the column it is about,
#: and the message for a detail.
Check = tuple[str, str, Callable[[Any], str]]


class Staging:
    """The temporary table that holds the valid rows of the file."""

    def __init__(self, cursor: CursorWrapper) -> None:
        self.cursor = cursor
        self.postgres = connection.vendor == "postgresql"
        self.batch: list[StagedRow] = []
        if self.postgres:
            # Rows go out as CSV text written by the csv module (C code), which costs a
            # fraction of formatting each value through the driver.
            self.buffer = io.StringIO()
            self.writer = csv.writer(self.buffer, lineterminator="\n")
            self.pending = 0
            # One COPY stays open from batch to batch, so that PostgreSQL stores a batch
            # while Python reads the next; it ends when a statement must run in between.
            self.copying: tuple[Any, Any] | None = None

    def create(self) -> None:
        self.drop()
        self.cursor.execute(
            "CREATE TEMPORARY TABLE survey_import_staging ("
            "line bigint NOT NULL, wave_id bigint NOT NULL, respondent varchar(200) NOT NULL, "
            "country varchar(3) NOT NULL, sector varchar(2) NOT NULL, item_id bigint NOT NULL, "
            "answer boolean NOT NULL)"
        )
        # One row per respondent of the file: the lowest and the highest country it is
        # given (the same, unless the file gives it two).
        self.cursor.execute(
            "CREATE TEMPORARY TABLE survey_import_respondents ("
            "wave_id bigint NOT NULL, respondent varchar(200) NOT NULL, "
            "country varchar(3) NOT NULL, last_country varchar(3) NOT NULL)"
        )

    def add(self, row: StagedRow) -> None:
        if self.postgres:
            self.writer.writerow(row)
            self.pending += 1
            if self.pending >= BATCH_SIZE:
                self._send()
            return
        self.batch.append(row)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def _send(self) -> None:
        if self.copying is None:
            context = self.cursor.cursor.copy(
                "COPY survey_import_staging (line, wave_id, respondent, country, sector, "
                "item_id, answer) FROM STDIN WITH (FORMAT csv)"
            )
            self.copying = (context, context.__enter__())
        self.copying[1].write(self.buffer.getvalue())
        self.buffer.seek(0)
        self.buffer.truncate()
        self.pending = 0

    def flush(self) -> None:
        """Send the pending rows and end the COPY, so that the connection can run other
        statements (creating a new wave or item between rows, the checks after)."""
        if self.postgres:
            if self.pending:
                self._send()
            self.abandon()
            return
        if not self.batch:
            return
        self.cursor.executemany(
            "INSERT INTO survey_import_staging (line, wave_id, respondent, country, "
            "sector, item_id, answer) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            self.batch,
        )
        self.batch = []

    def abandon(self, error: BaseException | None = None) -> None:
        """End the COPY in progress, if any; with `error`, PostgreSQL cancels it."""
        if self.postgres and self.copying is not None:
            context, self.copying = self.copying[0], None
            context.__exit__(type(error) if error else None, error, None)

    def summarise(self) -> int:
        """Fill the respondents' table; returns how many of them are already stored."""
        if self.postgres:
            # Without statistics the planner sorts the whole file to group it.
            self.cursor.execute("ANALYZE survey_import_staging")
        self.cursor.execute(
            "INSERT INTO survey_import_respondents (wave_id, respondent, country, last_country) "
            "SELECT wave_id, respondent, MIN(country), MAX(country) FROM survey_import_staging "
            "GROUP BY wave_id, respondent"
        )
        if self.postgres:
            self.cursor.execute("ANALYZE survey_import_respondents")
            # A wave imported moments ago is not in the planner's statistics yet; without
            # them the joins below run as nested loops over the whole table.
            self.cursor.execute("ANALYZE survey_respondent")
            self.cursor.execute("ANALYZE survey_response")
        self.cursor.execute(
            "SELECT COUNT(*) FROM survey_import_respondents g JOIN survey_respondent r "
            "ON r.wave_id = g.wave_id AND r.code = g.respondent"
        )
        return self.cursor.fetchone()[0]

    def index(self) -> bool:
        """Index the staging table on its key; returns whether some key occurs twice.

        The joins with the stored records go through this key. It is built unique
        first: for the usual file, with no repeated row, that is the whole check for
        them, and the query that lists them is not needed.
        """
        try:
            with transaction.atomic():
                self.cursor.execute(
                    "CREATE UNIQUE INDEX survey_import_staging_key "
                    "ON survey_import_staging (wave_id, respondent, sector, item_id)"
                )
        except IntegrityError:
            self.cursor.execute(
                "CREATE INDEX survey_import_staging_key "
                "ON survey_import_staging (wave_id, respondent, sector, item_id)"
            )
            return True
        if self.postgres:
            self.cursor.execute("ANALYZE survey_import_staging")
        return False

    def drop(self) -> None:
        self.cursor.execute("DROP TABLE IF EXISTS survey_import_staging")
        self.cursor.execute("DROP TABLE IF EXISTS survey_import_respondents")


def _set_errors(
    cursor: CursorWrapper,
    sql: str,
    params: Sequence[str | int],
    column: str,
    message_for: Callable[[Any], str],
) -> tuple[list[Problem], int]:
    """Run a check that selects (line, value, detail) rows; returns (first rows, total)."""
    cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS problems", params)  # noqa: S608
    total = cursor.fetchone()[0]
    if not total:
        return [], 0
    cursor.execute(f"{sql} ORDER BY 1 LIMIT {MAX_ERRORS}", params)
    found = [
        {"line": line, "column": column, "value": shown(value), "message": message_for(detail)}
        for line, value, detail in cursor.fetchall()
    ]
    return found, total


# A later row repeating (respondent, sector, item) of the same wave.
_REPEATED_ROWS: Check = (
    "SELECT d.line, i.code AS value, d.first_line AS detail FROM ("
    "SELECT line, item_id, MIN(line) OVER (PARTITION BY wave_id, respondent, "
    "sector, item_id) AS first_line FROM survey_import_staging) AS d "
    "JOIN survey_item i ON i.id = d.item_id "
    "WHERE d.line <> d.first_line",
    "item",
    lambda first: (
        _("Duplicate of line %(line)s (same respondent, sector and item).") % {"line": first}
    ),
)


def check_whole_file(
    cursor: CursorWrapper, errors: Errors, *, replace: bool, known: int, repeats: bool | None
) -> None:
    """The checks that need every row at once, on the staging table.

    known: how many of the file's respondents are already stored; with none, the checks
    against the stored records have nothing to find.
    repeats: whether some row repeats another: True, False (the staging key could be
    indexed unique), or None (not indexed: if everything else is right, survey_response's
    unique constraint finds them during the write, see `write`).
    """
    checks: list[Check] = [_REPEATED_ROWS] if repeats else []
    # Listing the rows that give a respondent another country sorts the whole file by
    # line: only done when the file's respondents show that there are any.
    cursor.execute("SELECT 1 FROM survey_import_respondents WHERE country <> last_country LIMIT 1")
    if cursor.fetchone():
        checks.append(
            (
                # The same respondent given another country than on its first row.
                "SELECT line, country AS value, first_country AS detail FROM ("
                "SELECT line, country, FIRST_VALUE(country) OVER (PARTITION BY wave_id, "
                "respondent ORDER BY line) AS first_country FROM survey_import_staging) AS c "
                "WHERE country <> first_country",
                "country",
                lambda first: (
                    _("This respondent is in %(country)s earlier in the file.") % {"country": first}
                ),
            )
        )
    if known:
        checks.append(
            (
                "SELECT s.line, s.country AS value, r.country_id AS detail "
                "FROM survey_import_staging s "
                "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
                "WHERE r.country_id <> s.country",
                "country",
                lambda stored: (
                    _("This respondent is already recorded in this wave for %(country)s.")
                    % {"country": stored}
                ),
            )
        )
    if known and not replace:
        checks.append(
            (
                "SELECT s.line, s.answer AS value, t.affirmative AS detail "
                "FROM survey_import_staging s "
                "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
                "JOIN survey_response t ON t.respondent_id = r.id AND t.sector_id = s.sector "
                "AND t.item_id = s.item_id WHERE t.affirmative <> s.answer",
                "answer",
                lambda stored: (
                    _(
                        "Already recorded with the answer %(answer)s; to change it, import "
                        "the file again choosing to replace recorded answers."
                    )
                    % {"answer": _("yes") if stored else _("no")}
                ),
            )
        )
    for sql, column, message_for in checks:
        found, total = _set_errors(cursor, sql, [], column, message_for)
        if total:
            # The stored answer comes back as 0/1 on SQLite: show it as people wrote it.
            for error in found:
                if column == "answer":
                    error["value"] = _("no") if error["value"] in ("0", "False") else _("yes")
            errors.merge(found, total)
    if repeats is None and errors.count:
        # There will be no write to find them: list them too, as for any refused file.
        errors.merge(*_set_errors(cursor, _REPEATED_ROWS[0], [], *_REPEATED_ROWS[1:]))


def _response_keys(
    cursor: CursorWrapper,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """What a bulk load drops from survey_response and puts back: its foreign keys to the
    tables in BULK_LOCKABLE, and its indexes other than the primary key and the unique
    constraint.

    Returns (foreign keys, indexes, referenced tables): foreign keys as (name, definition),
    indexes as (name, CREATE INDEX statement), exactly as PostgreSQL holds them, so that
    they come back with the names and definitions the migrations gave them. The primary
    key stays (new ids only append to it), and so does the unique constraint (the rows go
    in its order, so that it is filled page by page; it also stays the last guard).
    """
    table = Response._meta.db_table
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid), confrelid::regclass::text "
        "FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' "
        "AND confrelid::regclass::text = ANY(%s) ORDER BY conname",
        [table, list(BULK_LOCKABLE)],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT x.indexrelid::regclass::text, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT EXISTS ("
        "SELECT 1 FROM pg_constraint c WHERE c.conrelid = x.indrelid "
        "AND c.conindid = x.indexrelid) ORDER BY 1",
        [table],
    )
    indexes = cursor.fetchall()
    referenced = sorted({referenced for _name, _definition, referenced in foreign_keys})
    return [(name, definition) for name, definition, _ in foreign_keys], indexes, referenced


def _lock_exclusively(cursor: CursorWrapper, tables: Sequence[str]) -> bool:
    """Lock `tables` ACCESS EXCLUSIVE; False if that takes over BULK_LOCK_TIMEOUT_MS."""
    cursor.execute("SHOW lock_timeout")
    previous = cursor.fetchone()[0]
    try:
        with transaction.atomic():
            cursor.execute(f"SET LOCAL lock_timeout = {int(BULK_LOCK_TIMEOUT_MS)}")
            cursor.execute(
                "LOCK TABLE "
                + ", ".join(connection.ops.quote_name(table) for table in tables)
                + " IN ACCESS EXCLUSIVE MODE"
            )
    except OperationalError:
        # A long transaction is reading one of them. Rather than wait, and make every
        # reader that comes after queue behind this import, load row by row.
        return False
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return True


@contextmanager
def _rebuilt_for_bulk(cursor: CursorWrapper, bulk: bool) -> Iterator[None]:
    """Around the INSERT into survey_response: for a bulk load on PostgreSQL, drop the
    table's foreign key to survey_respondent and its secondary indexes before, and put
    them back after.

    Row by row, each new response queues its foreign-key checks (run at COMMIT) and
    updates every index; for a million rows that is most of the import's time. Adding a
    foreign key back checks the whole table in one join, and creating an index sorts
    once. The price is a lock: until COMMIT, survey_response and survey_respondent can be
    neither read nor written by anyone else. DDL is transactional, so a failure or a crash
    restores all of it.
    """
    if not bulk or connection.vendor != "postgresql":
        yield
        return
    foreign_keys, indexes, referenced = _response_keys(cursor)
    table = Response._meta.db_table
    if not _lock_exclusively(cursor, [table, *referenced]):
        yield
        return
    quoted = connection.ops.quote_name(table)
    # The checks still queued (for the respondents just created) run now: PostgreSQL
    # alters no table that has pending trigger events. Put back to deferred below.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    for _name, definition in indexes:
        cursor.execute(definition)
    for name, definition in foreign_keys:
        cursor.execute(
            f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
        )
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: the rest of the transaction
    # (an admin request goes on after the import) checks them at COMMIT again.
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def write(
    cursor: CursorWrapper,
    result: "ImportResult",
    errors: Errors,
    *,
    replace: bool,
    known: int,
    bulk: bool,
) -> None:
    """Store the staged rows: new respondents, then replaced and new responses."""
    cursor.execute(
        # One country per respondent by now: the checks refused any file giving two.
        "INSERT INTO survey_respondent (wave_id, country_id, code) "
        "SELECT g.wave_id, g.country, g.respondent FROM survey_import_respondents g "
        "WHERE NOT EXISTS (SELECT 1 FROM survey_respondent r "
        "WHERE r.wave_id = g.wave_id AND r.code = g.respondent) "
        # The sort reads every row before the first is written. Without it, each probe of
        # the anti-join would scan the rows this very statement has added so far.
        "ORDER BY g.wave_id, g.respondent"
    )
    result.respondents_created = max(cursor.rowcount, 0)
    if connection.vendor == "postgresql" and result.respondents_created:
        # Fresh statistics, or the planner takes the new respondents for an empty table
        # and joins a million staged rows to them by nested loop.
        cursor.execute("ANALYZE survey_respondent")
    if known:
        cursor.execute(
            "SELECT COUNT(*) FROM survey_import_staging s "
            "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
            "JOIN survey_response t ON t.respondent_id = r.id AND t.sector_id = s.sector "
            "AND t.item_id = s.item_id WHERE t.affirmative = s.answer"
        )
        result.responses_unchanged = cursor.fetchone()[0]
    if known and replace:
        cursor.execute(
            "UPDATE survey_response SET affirmative = s.answer FROM survey_import_staging s "
            "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
            "WHERE survey_response.respondent_id = r.id "
            "AND survey_response.sector_id = s.sector AND survey_response.item_id = s.item_id "
            "AND survey_response.affirmative <> s.answer"
        )
        result.responses_replaced = max(cursor.rowcount, 0)
    if result.responses_unchanged or result.responses_replaced:
        # Drop the rows already stored from the staging table, so that the INSERT below
        # needs no anti-join against the very table it fills (the planner, seeing a
        # table that was empty, would rescan it for every row).
        cursor.execute(
            "DELETE FROM survey_import_staging WHERE EXISTS (SELECT 1 FROM survey_respondent r "
            "JOIN survey_response t ON t.respondent_id = r.id "
            "WHERE r.wave_id = survey_import_staging.wave_id "
            "AND r.code = survey_import_staging.respondent "
            "AND t.sector_id = survey_import_staging.sector "
            "AND t.item_id = survey_import_staging.item_id)"
        )
    try:
        with transaction.atomic(), _rebuilt_for_bulk(cursor, bulk):
            cursor.execute(
                "INSERT INTO survey_response (respondent_id, sector_id, item_id, affirmative) "
                "SELECT r.id, s.sector, s.item_id, s.answer FROM survey_import_staging s "
                "JOIN survey_respondent r ON r.wave_id = s.wave_id AND r.code = s.respondent "
                # In the unique index's order: each index page is then filled once, in turn.
                "ORDER BY r.id, s.sector, s.item_id"
            )
            created = max(cursor.rowcount, 0)
    except IntegrityError:
        # When no respondent of the file was stored, the staging key is not indexed and
        # a row repeated in the file is found here, by the unique constraint: list them.
        found, total = _set_errors(cursor, _REPEATED_ROWS[0], [], *_REPEATED_ROWS[1:])
        if not total:
            raise
        errors.merge(found, total)
        return
    result.responses_created = created
