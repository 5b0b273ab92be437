"""Import survey records from a CSV file, all or nothing.

The file has a header row with exactly these columns, in any order:
`wave,country,respondent,sector,question,item,answer` (see `COLUMNS`).

How it stays fast and small on a million rows: the file is read once, as a stream;
each row is checked against the vocabulary and the valid ones go to a temporary staging
table (`importrows.py`). The checks that need the whole file and the write itself are
set-based queries on that table (`importstaging.py`, which also explains the bulk load).
Python holds no per-row state, whatever the size of the file. Everything runs in one
transaction: any error, or a crash half-way, leaves the database exactly as it was.
"""

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import reportcache
from core.tables import Table, TableError, TableRow, TableSource, open_table

from .importrows import (
    COLUMNS,
    MAX_ERRORS,
    Errors,
    Problem,
    Progress,
    Vocabulary,
    finished_errors,
    looks_long,
    read_rows,
    read_wide,
)
from .importstaging import Staging, check_whole_file, write
from .mappings import resolve
from .models import ColumnMapping
from .widefiles import first_rows

__all__ = ["COLUMNS", "MAX_ERRORS", "ImportResult", "import_survey"]


@dataclass
class ImportResult:
    """What an import did, or why it did nothing. Plain data, ready for JSON."""

    ok: bool = True
    errors: list[Problem] = field(default_factory=list)  # line, column, cell, value, message
    error_count: int = 0
    rows: int = 0
    answers: int = 0
    respondents_created: int = 0
    responses_created: int = 0
    responses_unchanged: int = 0
    responses_replaced: int = 0
    waves_created: list[str] = field(default_factory=list)
    items_created: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for people: the counts, or the number of problems."""
        if not self.ok:
            return ngettext(
                "Nothing was imported: %(count)d problem found.",
                "Nothing was imported: %(count)d problems found.",
                self.error_count,
            ) % {"count": self.error_count}
        rows = ngettext("%(rows)d row read", "%(rows)d rows read", self.rows) % {"rows": self.rows}
        respondents = ngettext(
            "%(count)d respondent created",
            "%(count)d respondents created",
            self.respondents_created,
        ) % {"count": self.respondents_created}
        responses = _(
            "responses: %(created)d created, %(unchanged)d unchanged, %(replaced)d replaced"
        ) % {
            "created": self.responses_created,
            "unchanged": self.responses_unchanged,
            "replaced": self.responses_replaced,
        }
        return f"{rows}: {respondents}; {responses}."


def import_survey(
    source: TableSource,
    *,
    mapping: ColumnMapping | str | None = None,
    wave: str | None = None,
    create_wave: bool = False,
    create_items: bool = False,
    replace: bool = False,
    progress: Progress = None,
    bulk: bool = False,
) -> ImportResult:
    """Import a survey file, CSV or XLSX; returns an `ImportResult`.

    source: a path, or a binary or text file object (an upload, `open(path, "rb")`).
    mapping: for a wide file (`mappings.py`), a `ColumnMapping`, a saved mapping's name or
    a preset's name. Without one, a file with the long format's columns is read as such,
    and any other file through the mapping proposed from its header.
    wave: the wave's code, for a wide file (it has no wave column).
    create_wave, create_items: allow codes the database does not know yet.
    replace: a row whose answer differs from the stored one replaces it (else an error).
    progress: called with the number of rows read since the last call.
    bulk: rebuild survey_response's keys around the write (see `importstaging.py`); for
    the management command's `--bulk` only, never for an upload through the site or API.

    All or nothing: with any error, nothing is written (not even a new wave or item).
    """
    result = ImportResult()
    errors = Errors()
    try:
        table = open_table(source)
    except TableError as error:
        errors.add(error.line or 1, "", "", error.message)
        return _finished(result, errors, None)
    rows = iter(table)
    renames = {}
    resolved = None
    if mapping is not None or not looks_long(table.header):
        try:
            head, rows = first_rows(rows, 3)
            resolved = resolve(mapping, table.header, [values for _line, values in head])
        except TableError as error:
            errors.add(error.line, "", "", error.message)
        except LookupError:
            errors.add(
                table.header_line,
                "",
                mapping,
                _("No saved mapping and no preset is named “%(name)s”.") % {"name": mapping},
            )
        if errors.count or resolved is None:
            table.close()
            return _finished(result, errors, table)
        renames = {
            "respondent": resolved.respondent_column,
            "country": resolved.country_column,
            "sector": resolved.sector_column,
        }
    return _import_rows(
        table,
        rows,
        result,
        errors,
        mapping=resolved,
        wave=wave,
        create_wave=create_wave,
        create_items=create_items,
        replace=replace,
        progress=progress,
        renames=renames,
        bulk=bulk,
    )


# Any two survey imports, whatever their door, run one after the other (jobs also queue
# behind one another, see jobs.py): they write the same tables, and a large one locks them.
_IMPORT_LOCK_KEY = 0x636F_7072  # "copr"


def _one_import_at_a_time() -> None:
    """On PostgreSQL, wait for any other import to end; released at COMMIT or ROLLBACK (or
    when the connection dies). SQLite lets one writer in at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])


def _import_rows(
    table: Table,
    rows: Iterator[TableRow],
    result: ImportResult,
    errors: Errors,
    *,
    mapping: ColumnMapping | None,
    wave: str | None,
    create_wave: bool,
    create_items: bool,
    replace: bool,
    progress: Progress,
    renames: dict[str, str],
    bulk: bool,
) -> ImportResult:
    """The import proper, in one transaction (see `import_survey`)."""
    try:
        try:
            with transaction.atomic():
                _one_import_at_a_time()
                vocabulary = Vocabulary(create_wave=create_wave, create_items=create_items)
                with connection.cursor() as cursor:
                    staging = Staging(cursor)
                    staging.create()
                    vocabulary.before_writing = staging.flush
                    try:
                        if mapping is None:
                            result.rows = read_rows(
                                table, rows, vocabulary, staging, errors, progress
                            )
                            result.answers = result.rows
                        else:
                            result.rows, result.answers = read_wide(
                                table, rows, mapping, wave, vocabulary, staging, errors, progress
                            )
                    except BaseException as error:
                        staging.abandon(error)
                        raise
                    staging.flush()
                    known = 0
                    if result.answers:
                        known = staging.summarise()
                        # Only the joins with stored records need the staging key indexed.
                        # Without any, every row is new, and survey_response's unique
                        # constraint finds a repeated one during the write.
                        repeats = staging.index() if known else None
                        check_whole_file(
                            cursor, errors, replace=replace, known=known, repeats=repeats
                        )
                    if not errors.count:
                        write(cursor, result, errors, replace=replace, known=known, bulk=bulk)
                    if errors.count:
                        result.respondents_created = result.responses_created = 0
                        result.responses_unchanged = result.responses_replaced = 0
                    else:
                        result.waves_created = vocabulary.waves_created
                        result.items_created = vocabulary.items_created
                        # Written in bulk, without signals: cached reports start over.
                        reportcache.data_changed()
                    staging.drop()
                if errors.count:
                    transaction.set_rollback(True)
        except IntegrityError:
            # Another import stored some of the same records while this one ran: both saw
            # them missing, and the unique constraints let only the first in. Nothing of this
            # file is kept; run again, it finds what the other one stored.
            result, errors = ImportResult(), Errors()
            errors.add(
                1,
                "",
                "",
                _(
                    "Another import stored some of these records at the same moment, so "
                    "nothing of this file was saved. Import it again: the records already "
                    "stored are then recognised."
                ),
            )
    finally:
        table.close()
    return _finished(result, errors, table, renames)


def _finished(
    result: ImportResult,
    errors: Errors,
    table: Table | None,
    renames: dict[str, str] | None = None,
) -> ImportResult:
    """Put the errors into the result; in a sheet, each with its cell's address.

    renames: for a wide file, the file's own name of the respondent, country and sector
    columns, which the checks on the whole file call by their long-format names.
    """
    result.errors = finished_errors(errors.kept, table, renames)
    result.error_count = errors.count
    result.ok = not errors.count
    return result
