"""Import a register of initiatives, CSV or XLSX, in the export's own format; all or nothing.

The columns are those of the export (`exports.columns`), in any order; a column left out
leaves that part of each record as it is. Label columns and the other columns the
workflows write (review status, timestamps, the verified badge) are read past. A row
without a `reference` creates an initiative; a row with one updates it, and must carry the
`version` it was exported at: an older version means someone changed the record since,
and the row is refused as a stale edit.

Every row goes through the services the site, the API and the admin use
(`initiative_create`, `initiative_update`, `write_grid`, `write_framework`,
`stage_history_replace`), inside one transaction with a savepoint per row, so every
problem of the file is listed with its line and column; if there is any, or for a dry
run, the transaction is rolled back and nothing is written. The result says what each row
did (created, updated, unchanged).

Cells a spreadsheet might read as formulas were written with a leading `'` by the CSV
export; it is taken off again, so that they come back as they were typed.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.csvfiles import FORMULA_TRIGGERS
from core.tables import TableError, open_table
from survey.models import Country, Item, Sector

from . import services
from .models import (
    AccountabilityFramework,
    BudgetFramework,
    EvidenceLevel,
    Initiative,
    Level,
    Organisation,
    ParticipationLevel,
    PartnerType,
    Phase,
    Stage,
)
from .services.common import StaleEdit

#: The most problems listed; past it the import stops reading (it writes nothing anyway).
MAX_ERRORS = 100
# Rows between two calls of an import's progress callback.
PROGRESS_EVERY = 200
REQUIRED_TO_CREATE = ("title", "country", "sector", "level")

RECORD_TEXT = ("title", "summary", "description", "lead_public_body")
TAG_COLUMNS = ("objectives", "barriers", "barriers_addressed", "factors")
#: Framework columns: column -> (framework, field, kind).
FRAMEWORK_COLUMNS = {
    "accountable_body": ("accountability", "accountable_body", "text"),
    "reporting_line": ("accountability", "reporting_line", "text"),
    "reporting_frequency": ("accountability", "reporting_frequency", "text"),
    "roles_written": ("accountability", "roles_written", "bool"),
    "risk_arrangements": ("accountability", "risk_arrangements", "text"),
    "probity_arrangements": ("accountability", "probity_arrangements", "text"),
    "accountability_notes": ("accountability", "notes", "text"),
    "budget": ("budget", "amount", "decimal"),
    "currency": ("budget", "currency", "text"),
    "funding_sources": ("budget", "funding_sources", "text"),
    "funded_beyond_pilot": ("budget", "funded_beyond_pilot", "bool"),
    "resources_transferred": ("budget", "resources_transferred", "bool"),
    "transferred_amount": ("budget", "transferred_amount", "decimal"),
    "financial_incentives": ("budget", "financial_incentives", "text"),
    "citizen_hours": ("budget", "citizen_hours", "decimal"),
    "citizen_knowledge": ("budget", "citizen_knowledge", "text"),
    "citizen_effort": ("budget", "citizen_effort", "text"),
    "estimated_costs": ("budget", "estimated_costs", "decimal"),
    "estimated_benefits": ("budget", "estimated_benefits", "decimal"),
    "evidence_level": ("budget", "evidence_level", "evidence"),
}
FRAMEWORK_MODELS = {"accountability": AccountabilityFramework, "budget": BudgetFramework}
#: The service's field names where the file calls them otherwise.
FIELD_COLUMNS = {
    "accountability": {"notes": "accountability_notes"},
    "budget": {"amount": "budget"},
}
RECORD_COLUMNS = {"stage": "stage_history"} | {
    services.since_field(stage): "stage_history" for stage in Stage.values
}
#: Columns the import reads; the others (labels, what the workflows write) it reads past.
READ = {
    "reference",
    "version",
    *RECORD_TEXT,
    "country",
    "sector",
    "level",
    "organisation",
    "start_date",
    "end_date",
    "participants",
    "participation_levels",
    *TAG_COLUMNS,
    *FRAMEWORK_COLUMNS,
    "stage",
    "stage_history",
}
YES = {"yes", "true", "1", "y"}
NO = {"no", "false", "0", "n", ""}


@dataclass
class Problem:
    line: int | None
    column: str | None
    where: str
    message: str
    value: str = ""

    def __str__(self):
        if self.column:
            return f"{self.where}, {self.column}: {self.message}"
        return f"{self.where}: {self.message}"


@dataclass
class ImportResult:
    """What the import did, or would do (dry run), or why it did nothing."""

    dry_run: bool = False
    rows: int = 0
    created: list = field(default_factory=list)  # (line, reference)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self):
        return not self.error_count

    @property
    def written(self):
        return self.ok and not self.dry_run

    def summary(self):
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

    def as_dict(self):
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


class RowRefused(Exception):
    """A row cannot be imported; `problems` say where and why."""

    def __init__(self, problems):
        super().__init__(problems)
        self.problems = problems


def _untyped(value):
    """A cell as it was typed: the export's formula guard (a leading ') taken off."""
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


class _Vocabulary:
    """The codes a register may use, read once."""

    def __init__(self):
        self.countries = set(Country.objects.values_list("code", flat=True))
        self.sectors = set(Sector.objects.values_list("code", flat=True))
        self.organisations = dict(Organisation.objects.values_list("name", "pk"))
        self.items = {}
        for item in Item.objects.select_related("question"):
            self.items[(item.question.code, item.code)] = item


class _Row:
    """One row's cells, parsed column by column; problems are collected, not raised."""

    def __init__(self, table, line, values, header):
        self.table, self.line = table, line
        self.cells = dict(zip(header, values, strict=False))
        self.index = {name: position for position, name in enumerate(header)}
        self.problems = []

    def has(self, column):
        return column in self.index

    def text(self, column):
        return _untyped(self.cells.get(column, "") or "")

    def problem(self, column, message):
        where = self.table.where(self.line, self.index.get(column))
        self.problems.append(
            Problem(self.line, column, str(where), str(message), self.cells.get(column, ""))
        )

    def code(self, column, allowed, *, pad=0):
        value = self.text(column).strip()
        if pad and value.isdigit():
            value = value.zfill(pad)
        if value not in allowed:
            self.problem(
                column,
                _("Unknown code “%(code)s”: see the codebook for the codes of %(column)s.")
                % {"code": value, "column": column},
            )
        return value

    def date(self, column):
        value = self.text(column).strip()
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value[:10] if "T" in value else value)
        except ValueError:
            self.problem(column, _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value})
            return None

    def decimal(self, column):
        value = self.text(column).strip()
        if not value:
            return None
        try:
            return Decimal(value)
        except InvalidOperation:
            self.problem(
                column,
                _("“%(value)s” is not a number (use a dot for decimals, no thousands separator).")
                % {"value": value},
            )
            return None

    def integer(self, column):
        number = self.decimal(column)
        if number is None:
            return None
        if number != number.to_integral_value():
            self.problem(column, _("Give a whole number."))
            return None
        return int(number)

    def boolean(self, column):
        value = self.text(column).strip().lower()
        if value in YES:
            return True
        if value not in NO:
            self.problem(column, _("Use yes or no."))
        return False


def _parse_history(row):
    value = row.text("stage_history").strip()
    if not value:
        row.problem("stage_history", _("Give the stage history, e.g. planned:2019-03-01."))
        return None
    steps = []
    for entry in value.split("|"):
        stage, _sep, on = entry.strip().partition(":")
        if stage not in Stage.values:
            row.problem(
                "stage_history",
                _("Unknown stage “%(stage)s” in “%(entry)s”.") % {"stage": stage, "entry": entry},
            )
            return None
        try:
            steps.append((stage, datetime.date.fromisoformat(on)))
        except ValueError:
            row.problem(
                "stage_history",
                _("“%(entry)s” has no date: write stage:YYYY-MM-DD.") % {"entry": entry},
            )
            return None
    try:
        services.check_history(steps)
    except ValidationError as error:
        row.problem("stage_history", " ".join(error.messages))
        return None
    stage = row.text("stage").strip()
    if row.has("stage") and stage and stage != steps[-1][0]:
        row.problem(
            "stage",
            _("The stage “%(stage)s” is not the last entry of stage_history (“%(last)s”).")
            % {"stage": stage, "last": steps[-1][0]},
        )
    return steps


def _parse_grid(row):
    cells = {}
    value = row.text("participation_levels").strip()
    for entry in filter(None, (part.strip() for part in value.split("|"))):
        parts = entry.split(":")
        if len(parts) != 3:
            row.problem(
                "participation_levels",
                _("“%(entry)s”: write phase:partner_type:level.") % {"entry": entry},
            )
            continue
        phase, partner, level = parts
        for code, allowed in (
            (phase, Phase.values),
            (partner, PartnerType.values),
            (level, ParticipationLevel.values),
        ):
            if code not in allowed:
                row.problem(
                    "participation_levels",
                    _("Unknown code “%(code)s” in “%(entry)s”.") % {"code": code, "entry": entry},
                )
        if (phase, partner) in cells:
            row.problem(
                "participation_levels",
                _("“%(phase)s:%(partner)s” is given twice.") % {"phase": phase, "partner": partner},
            )
        cells[(phase, partner)] = level
    return cells


def _parse_tags(row, vocabulary, column):
    question = Initiative.TAG_QUESTIONS[column]
    items = []
    for code in filter(None, (part.strip() for part in row.text(column).split("|"))):
        item = vocabulary.items.get((question, code))
        if item is None:
            row.problem(
                column,
                _("Unknown item “%(code)s” of the question “%(question)s”.")
                % {"code": code, "question": question},
            )
        else:
            items.append(item)
    return items


@dataclass
class _Parsed:
    reference: str
    version: int | None
    fields: dict
    tags: dict
    grid: dict | None
    frameworks: dict
    history: list | None


def _parse(row, vocabulary):
    reference = row.text("reference").strip()
    version = row.integer("version") if row.has("version") and reference else None
    if reference and version is None and not row.problems:
        row.problem("version", _("Give the version the row was exported at."))
    fields = {}
    for column in RECORD_TEXT:
        if row.has(column):
            fields[column] = row.text(column)
    if row.has("country"):
        fields["country_id"] = row.code("country", vocabulary.countries)
    if row.has("sector"):
        fields["sector_id"] = row.code("sector", vocabulary.sectors, pad=2)
    if row.has("level"):
        fields["level"] = row.code("level", Level.values)
    if row.has("organisation"):
        name = row.text("organisation").strip()
        if name and name not in vocabulary.organisations:
            row.problem("organisation", _("No organisation is named “%(name)s”.") % {"name": name})
        fields["organisation_id"] = vocabulary.organisations.get(name) if name else None
    for column in ("start_date", "end_date"):
        if row.has(column):
            fields[column] = row.date(column)
    if row.has("participants"):
        fields["participants"] = row.integer("participants")
    if not reference:
        for column in REQUIRED_TO_CREATE:
            if not row.has(column) or not row.text(column).strip():
                row.problem(column, _("Required to create an initiative."))
    tags = {
        column: _parse_tags(row, vocabulary, column) for column in TAG_COLUMNS if row.has(column)
    }
    grid = _parse_grid(row) if row.has("participation_levels") else None
    frameworks = {}
    for column, (name, field_name, kind) in FRAMEWORK_COLUMNS.items():
        if not row.has(column):
            continue
        if kind == "text":
            value = row.text(column)
        elif kind == "bool":
            value = row.boolean(column)
        elif kind == "decimal":
            value = row.decimal(column)
        else:
            value = row.text(column).strip()
            if value and value not in EvidenceLevel.values:
                row.code(column, EvidenceLevel.values)
        frameworks.setdefault(name, {})[field_name] = value
    history = _parse_history(row) if row.has("stage_history") else None
    return _Parsed(reference, version, fields, tags, grid, frameworks, history)


def _framework_changes(initiative, name, values):
    model = FRAMEWORK_MODELS[name]
    current = model.objects.filter(initiative=initiative).first()
    if current is None:
        blank = model(initiative=initiative)
        return values if any(getattr(blank, k) != v for k, v in values.items()) else {}
    changed = {k: v for k, v in values.items() if getattr(current, k) != v}
    # An amount with trailing zeros is the same amount.
    return {k: v for k, v in changed.items() if not _same_number(getattr(current, k), v)}


def _same_number(stored, given):
    return isinstance(stored, Decimal) and isinstance(given, Decimal) and stored == given


def _grid_cells(initiative, levels):
    """{(phase, partner): (level, role)}: the roles of cells that stay are kept."""
    roles = {(p.phase, p.partner_type): p.role for p in initiative.participations.all()}
    return {key: (level, roles.get(key, "")) for key, level in levels.items()}


def _column_of(name, key):
    if name in FIELD_COLUMNS:
        return FIELD_COLUMNS[name].get(key, _framework_column(name, key))
    if key.endswith("_id"):
        key = key.removesuffix("_id")
    return RECORD_COLUMNS.get(key, key)


def _framework_column(name, key):
    for column, (framework, field_name, _kind) in FRAMEWORK_COLUMNS.items():
        if framework == name and field_name == key:
            return column
    return key


def _refused(row, error, part=None):
    """A service's ValidationError as problems on the row's columns."""
    if hasattr(error, "error_dict"):
        for key, messages in error.message_dict.items():
            column = None if key == "__all__" else _column_of(part, key)
            row.problem(column, " ".join(messages))
    else:
        row.problem(None, " ".join(error.messages))


def _write_parts(initiative, parsed, by, row):
    changed = False
    if parsed.grid is not None:
        changed |= services.write_grid(
            initiative=initiative, by=by, cells=_grid_cells(initiative, parsed.grid)
        )
    for name, values in parsed.frameworks.items():
        values = _framework_changes(initiative, name, values)
        if values:
            try:
                services.write_framework(initiative=initiative, name=name, by=by, values=values)
            except ValidationError as error:
                _refused(row, error, name)
                raise RowRefused(row.problems) from None
            changed = True
    return changed


def _create(parsed, by, row):
    fields = dict(parsed.fields)
    history = parsed.history or None
    initiative = services.initiative_create(by=by, history=history, tags=parsed.tags, **fields)
    _write_parts(initiative, parsed, by, row)
    return initiative


def _record_changes(initiative, parsed):
    fields = {k: v for k, v in parsed.fields.items() if getattr(initiative, k) != v}
    tags = {}
    for column, items in parsed.tags.items():
        current = set(getattr(initiative, column).values_list("pk", flat=True))
        if current != {item.pk for item in items}:
            tags[column] = items
    return fields, tags


def _parts_change(initiative, parsed):
    if parsed.grid is not None:
        current = {(p.phase, p.partner_type): p.level for p in initiative.participations.all()}
        if current != parsed.grid:
            return True
    if any(_framework_changes(initiative, n, v) for n, v in parsed.frameworks.items()):
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


def _update(initiative, parsed, by, row):
    """Apply the row's changes; False when it changes nothing."""
    if parsed.version != initiative.version:
        raise StaleEdit(initiative.version)
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


def _apply(row, parsed, by, result, seen):
    if parsed.reference:
        if parsed.reference in seen:
            row.problem(
                "reference",
                _("The reference %(reference)s is also on %(where)s.")
                % {"reference": parsed.reference, "where": seen[parsed.reference]},
            )
            raise RowRefused(row.problems)
        seen[parsed.reference] = row.table.where(row.line)
        initiative = Initiative.objects.filter(reference=parsed.reference).first()
        if initiative is None:
            row.problem(
                "reference",
                _("No initiative has the reference %(reference)s; leave it empty to create one.")
                % {"reference": parsed.reference},
            )
            raise RowRefused(row.problems)
        try:
            changed = _update(initiative, parsed, by, row)
        except StaleEdit as stale:
            row.problem(
                "version",
                _(
                    "Stale edit: the row was exported at version %(version)s and the record is "
                    "now at version %(current)s. Export it again and redo the change."
                )
                % {"version": parsed.version, "current": stale.current_version},
            )
            raise RowRefused(row.problems) from None
        target = result.updated if changed else result.unchanged
        target.append((row.line, initiative.reference))
    else:
        initiative = _create(parsed, by, row)
        result.created.append((row.line, initiative.reference))


def import_initiatives(source, *, by, dry_run=False, progress=None):
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
        table = open_table(source, multiline=True)
    except TableError as error:
        result.errors.append(Problem(error.line, None, _where_line(error.line), error.message))
        result.error_count = 1
        return result
    with table, transaction.atomic():
        _import_rows(table, by, result, progress)
        if not result.ok or dry_run:
            transaction.set_rollback(True)
    return result


def _where_line(line):
    return _("line %(line)d") % {"line": line} if line else _("the file")


def _import_rows(table, by, result, progress=None):
    header = table.header
    known = set(header) & READ
    if not known & {"reference", "title"}:
        result.errors.append(
            Problem(
                table.header_line,
                None,
                str(table.where(table.header_line)),
                _(
                    "This is not a register of initiatives: the header has neither "
                    "“reference” nor “title” (see the codebook)."
                ),
            )
        )
        result.error_count = 1
        return
    vocabulary = _Vocabulary()
    seen = {}
    reported = 0
    try:
        for line, values in table:
            result.rows += 1
            if progress and result.rows - reported == PROGRESS_EVERY:
                progress(PROGRESS_EVERY)
                reported = result.rows
            row = _Row(table, line, values, header)
            parsed = _parse(row, vocabulary)
            if not row.problems:
                try:
                    with transaction.atomic():
                        _apply(row, parsed, by, result, seen)
                except RowRefused:
                    pass
                except ValidationError as error:
                    _refused(row, error)
            result.error_count += len(row.problems)
            result.errors.extend(row.problems[: max(0, MAX_ERRORS - len(result.errors))])
            if result.error_count >= MAX_ERRORS:
                break
    except TableError as error:
        result.errors.append(Problem(error.line, None, _where_line(error.line), error.message))
        result.error_count += 1
    if progress and result.rows > reported:
        progress(result.rows - reported)
