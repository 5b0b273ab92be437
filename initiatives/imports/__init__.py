"""Import a register of initiatives, CSV or XLSX, in the export's own format; all or nothing.

The columns are those of the export (`exports.columns`), in any order; a column left out
leaves that part of each record as it is. Label columns and the other columns the
workflows write (review status, timestamps, the verified badge) are not read; in a row
that updates, those that move only with the record's version must still say what the
export said (in any of the site's languages), so that an edit there is refused, naming
the column to edit instead, rather than silently lost (`derived`). A row
without a `reference` creates an initiative; a row with one updates it, and must carry the
`version` it was exported at: an older version means someone changed the record since,
and the row is refused as a stale edit.

Every row goes through the services the site, the API and the admin use, inside one
transaction, so every problem of the file is listed with its line and column; if there is
any, or for a dry run, the transaction is rolled back and nothing is written. The result
says what each row did (created, updated, unchanged). A row that updates is written by
`initiative_update`, `write_grid`, `write_framework` and `stage_history_replace` in a
savepoint of its own. New initiatives are checked as they are read by the functions
`initiative_create` checks with, and written `BATCH_ROWS` at a time (`imports.batch`),
in a number of queries that does not grow with the rows (bench/RESULTS.md, "The
register"). The cells are parsed in `imports.rows`.

Cells a spreadsheet might read as formulas were written with a leading `'` by the CSV
export; it is taken off again, so that they come back as they were typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.tables import Table, TableError, TableSource, open_table

from .. import services
from ..models import Initiative
from ..services.common import StaleEdit
from .batch import Batch
from .derived import DerivedCheck
from .rows import (
    READ,
    Parsed,
    Problem,
    Row,
    RowRefused,
    Vocabulary,
    framework_changes,
    parse,
    refused,
    same_value,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from survey.models import Item

__all__ = ["ImportResult", "Problem", "import_initiatives"]

#: The most problems listed; past it the import stops reading (it writes nothing anyway).
MAX_ERRORS = 100
# Rows between two calls of an import's progress callback.
PROGRESS_EVERY = 200
#: New initiatives written together (`imports.batch`); 0 writes each through the services.
BATCH_ROWS = 500


@dataclass
class ImportResult:
    """What the import did, or would do (dry run), or why it did nothing."""

    dry_run: bool = False
    rows: int = 0
    created: list[tuple[int, str]] = field(default_factory=list)  # (line, reference)
    updated: list[tuple[int, str]] = field(default_factory=list)
    unchanged: list[tuple[int, str]] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.error_count

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def summary(self) -> str:
        counts = {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
        }
        if not self.ok:
            return ngettext(
                "Nothing was imported: %(count)d problem.",
                "Nothing was imported: %(count)d problems.",
                self.error_count,
            ) % {"count": self.error_count}
        if self.dry_run:
            return (
                _(
                    "Preview, nothing written: %(created)d to create, %(updated)d to update, "
                    "%(unchanged)d unchanged."
                )
                % counts
            )
        return _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % (
            counts
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": [{"line": line, "reference": ref} for line, ref in self.created],
            "updated": [{"line": line, "reference": ref} for line, ref in self.updated],
            "unchanged": [{"line": line, "reference": ref} for line, ref in self.unchanged],
            "errors": [
                {"line": e.line, "column": e.column, "where": e.where, "message": e.message}
                for e in self.errors
            ],
            "error_count": self.error_count,
            "summary": str(self.summary()),
        }


def _grid_cells(
    initiative: Initiative, levels: dict[tuple[str, str], str]
) -> dict[tuple[str, str], tuple[str, str]]:
    """{(phase, partner): (level, role)}: the roles of cells that stay are kept."""
    roles = {(p.phase, p.partner_type): p.role for p in initiative.participations.all()}
    return {key: (level, roles.get(key, "")) for key, level in levels.items()}


def _write_parts(initiative: Initiative, parsed: Parsed, by: User | None, row: Row) -> bool:
    changed = False
    if parsed.grid is not None:
        changed |= services.write_grid(
            initiative=initiative, by=by, cells=_grid_cells(initiative, parsed.grid)
        )
    for name, values in parsed.frameworks.items():
        values = framework_changes(initiative, name, values)
        if values:
            try:
                services.write_framework(initiative=initiative, name=name, by=by, values=values)
            except ValidationError as error:
                refused(row, error, name)
                raise RowRefused(row.problems) from None
            changed = True
    return changed


def _create(parsed: Parsed, by: User | None, row: Row) -> Initiative:
    fields = dict(parsed.fields)
    history = parsed.history or None
    initiative = services.initiative_create(by=by, history=history, tags=parsed.tags, **fields)
    _write_parts(initiative, parsed, by, row)
    return initiative


def _record_changes(
    initiative: Initiative, parsed: Parsed
) -> tuple[dict[str, Any], dict[str, list[Item]]]:
    fields = {k: v for k, v in parsed.fields.items() if not same_value(getattr(initiative, k), v)}
    tags = {}
    for column, items in parsed.tags.items():
        current = set(getattr(initiative, column).values_list("pk", flat=True))
        if current != {item.pk for item in items}:
            tags[column] = items
    return fields, tags


def _parts_change(initiative: Initiative, parsed: Parsed) -> bool:
    if parsed.grid is not None:
        current = {(p.phase, p.partner_type): p.level for p in initiative.participations.all()}
        if current != parsed.grid:
            return True
    if any(framework_changes(initiative, n, v) for n, v in parsed.frameworks.items()):
        return True
    if parsed.history is not None:
        stored = list(
            initiative.stage_changes.order_by("changed_on", "changed_at", "pk").values_list(
                "to_stage", "changed_on"
            )
        )
        if stored != parsed.history:
            return True
    return False


def _update(
    initiative: Initiative, parsed: Parsed, by: User | None, row: Row, derived: DerivedCheck
) -> bool:
    """Apply the row's changes; False when it changes nothing."""
    if parsed.version != initiative.version:
        raise StaleEdit(initiative.version)
    if derived.edited(row, initiative):
        raise RowRefused(row.problems)
    fields, tags = _record_changes(initiative, parsed)
    if not fields and not tags and not _parts_change(initiative, parsed):
        return False
    # One claim of the version covers the record and its parts, as on the edit pages.
    services.initiative_update(
        initiative=initiative,
        by=by,
        expected_version=parsed.version,
        fields=fields,
        tags=tags,
    )
    _write_parts(initiative, parsed, by, row)
    if parsed.history is not None:
        services.stage_history_replace(
            initiative=initiative, steps=parsed.history, by=by, reason=_("Imported register.")
        )
    return True


@dataclass
class _Run:
    """What the rows of one import share: who imports, the answer so far, where each
    reference was seen (one twice in a file is refused), and the check of the columns the
    import does not read."""

    by: User | None
    result: ImportResult
    seen: dict[str, str] = field(default_factory=dict)
    derived: DerivedCheck = field(default_factory=DerivedCheck)


def _apply(row: Row, parsed: Parsed, run: _Run) -> None:
    if parsed.reference:
        if parsed.reference in run.seen:
            row.problem(
                "reference",
                _("The reference %(reference)s is also on %(where)s.")
                % {"reference": parsed.reference, "where": run.seen[parsed.reference]},
            )
            raise RowRefused(row.problems)
        run.seen[parsed.reference] = row.table.where(row.line)
        initiative = Initiative.objects.filter(reference=parsed.reference).first()
        if initiative is None:
            row.problem(
                "reference",
                _("No initiative has the reference %(reference)s; leave it empty to create one.")
                % {"reference": parsed.reference},
            )
            raise RowRefused(row.problems)
        try:
            changed = _update(initiative, parsed, run.by, row, run.derived)
        except StaleEdit as stale:
            if parsed.version is not None and parsed.version > (stale.current_version or 0):
                message = _(
                    "The record is at version %(current)s, so it was never at version "
                    "%(version)s: leave the version as the export wrote it."
                )
            else:
                message = _(
                    "Stale edit: the row was exported at version %(version)s and the record is "
                    "now at version %(current)s. Export it again and redo the change."
                )
            row.problem(
                "version",
                message % {"version": parsed.version, "current": stale.current_version},
            )
            raise RowRefused(row.problems) from None
        target = run.result.updated if changed else run.result.unchanged
        target.append((row.line, initiative.reference))
    else:
        initiative = _create(parsed, run.by, row)
        run.result.created.append((row.line, initiative.reference))


def import_initiatives(
    source: TableSource,
    *,
    by: User | None,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
) -> ImportResult:
    """Import the register in `source` (a path, an upload or a binary file); see the module.

    `by` is who imports (None: the system, as the management command runs). Returns an
    `ImportResult`; nothing is written unless it is ok and not a dry run. `progress`, if
    given, is called with the number of rows read since its last call, every
    `PROGRESS_EVERY` rows and once at the end (a background job's progress bar).
    """
    if by is not None and not by.has_perm("initiatives.import_register"):
        raise PermissionDenied(_("Only staff who review and change any initiative import."))
    result = ImportResult(dry_run=dry_run)
    try:
        # The export's sheet, wherever it is in a workbook someone added notes to.
        table = open_table(source, multiline=True, prefer_sheet="initiatives")
    except TableError as error:
        result.errors.append(Problem(error.line, None, _where_line(error.line), error.message))
        result.error_count = 1
        return result
    with table, transaction.atomic():
        _import_rows(table, by, result, progress)
        if not result.ok or dry_run:
            transaction.set_rollback(True)
    return result


#: What a spreadsheet in another locale separates a CSV file's values with.
SEPARATORS = ((";", gettext_lazy("semicolons")), ("\t", gettext_lazy("tabs")))


def _where_line(line: int | None) -> str:
    return _("line %(line)d") % {"line": line} if line else _("the file")


def _import_rows(
    table: Table,
    by: User | None,
    result: ImportResult,
    progress: Callable[[int], object] | None = None,
) -> None:
    header = table.header
    known = set(header) & READ
    if not known & {"reference", "title"}:
        first = ",".join(header)
        separator = next((name for mark, name in SEPARATORS if mark in first), None)
        if table.kind == "csv" and separator:
            message = _(
                "This file is separated by %(separator)s, not commas: save it as “CSV UTF-8 "
                "(comma delimited)”, or import the XLSX file."
            ) % {"separator": separator}
        else:
            message = _(
                "This is not a register of initiatives: the header (the first row that is "
                "not blank) has neither “reference” nor “title” (see the codebook)."
            )
        result.errors.append(
            Problem(table.header_line, None, str(table.where(table.header_line)), message)
        )
        result.error_count = 1
        return
    vocabulary, run = Vocabulary(), _Run(by, result)
    batch = Batch(by)
    # A batch needs the new rows' ids back from its inserts (PostgreSQL, SQLite >= 3.35).
    batched = BATCH_ROWS and connection.features.can_return_rows_from_bulk_insert
    reported = 0
    try:
        for line, values in table:
            result.rows += 1
            if progress and result.rows - reported == PROGRESS_EVERY:
                progress(PROGRESS_EVERY)
                reported = result.rows
            row = Row(table, line, values, header)
            parsed = parse(row, vocabulary)
            if not row.problems:
                if parsed.reference or not batched:
                    # Rows are told in the file's order: the new ones before go first.
                    result.created.extend(batch.write())
                    _apply_one(row, parsed, run)
                else:
                    batch.add(row, parsed)
                    if len(batch) >= BATCH_ROWS:
                        result.created.extend(batch.write())
            result.error_count += len(row.problems)
            result.errors.extend(row.problems[: max(0, MAX_ERRORS - len(result.errors))])
            if result.error_count >= MAX_ERRORS:
                break
        result.created.extend(batch.write())
    except TableError as error:
        result.errors.append(Problem(error.line, None, _where_line(error.line), error.message))
        result.error_count += 1
    if progress and result.rows > reported:
        progress(result.rows - reported)


def _apply_one(row: Row, parsed: Parsed, run: _Run) -> None:
    """Write one row through the services, in a savepoint of its own."""
    try:
        with transaction.atomic():
            _apply(row, parsed, run)
    except RowRefused:
        pass
    except ValidationError as error:
        refused(row, error)
