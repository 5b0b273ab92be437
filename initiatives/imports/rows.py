"""One row of a register, read and checked cell by cell; what both ways of writing it share.

The cells are parsed here against the vocabulary (codes, organisations, survey items)
read once per import; the rules of a valid record stay with the services and models,
which the writers call (`imports.batch` for new initiatives, the per-row path in
`imports` for the others).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.csvfiles import unneutralise
from survey.models import Country, Item, Sector

from .. import services
from ..models import (
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

if TYPE_CHECKING:
    from core.tables import Table

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
FRAMEWORK_MODELS: dict[str, type[AccountabilityFramework] | type[BudgetFramework]] = {
    "accountability": AccountabilityFramework,
    "budget": BudgetFramework,
}
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
# The codes of each choice, read once (an enum builds its list again at each `.values`).
STAGES = frozenset(Stage.values)
LEVELS = frozenset(Level.values)
PHASES = frozenset(Phase.values)
PARTNER_TYPES = frozenset(PartnerType.values)
PARTICIPATION_LEVELS = frozenset(ParticipationLevel.values)
EVIDENCE_LEVELS = frozenset(EvidenceLevel.values)
#: A stage history as a file states it: [(stage, date)] in order.
Steps = list[tuple[str, datetime.date]]
YES = {"yes", "true", "1", "y"}
NO = {"no", "false", "0", "n", ""}


def lines(text: str) -> str:
    """Text with its line breaks as `\\n`: a file saved on Windows says the same thing."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def same_value(stored: Any, given: Any) -> bool:
    """Whether a record's value and a file's say the same (line breaks aside)."""
    if isinstance(stored, str) and isinstance(given, str):
        return lines(stored) == lines(given)
    return bool(stored == given)


@dataclass
class Problem:
    line: int | None
    column: str | None
    where: str
    message: str
    value: str = ""

    def __str__(self) -> str:
        if self.column:
            return f"{self.where}, {self.column}: {self.message}"
        return f"{self.where}: {self.message}"


class RowRefused(Exception):
    """A row cannot be imported; `problems` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems


class Vocabulary:
    """The codes a register may use, read once."""

    def __init__(self) -> None:
        self.countries: set[str] = set(Country.objects.values_list("code", flat=True))
        self.sectors: set[str] = set(Sector.objects.values_list("code", flat=True))
        self.organisations: dict[str, int] = dict(Organisation.objects.values_list("name", "pk"))
        self.items: dict[tuple[str, str], Item] = {}
        for item in Item.objects.select_related("question"):
            self.items[(item.question.code, item.code)] = item


class Row:
    """One row's cells, parsed column by column; problems are collected, not raised."""

    def __init__(self, table: Table, line: int, values: list[str], header: list[str]) -> None:
        self.table, self.line = table, line
        self.cells = dict(zip(header, values, strict=False))
        self.index = {name: position for position, name in enumerate(header)}
        self.problems: list[Problem] = []

    def has(self, column: str) -> bool:
        return column in self.index

    def text(self, column: str) -> str:
        """The cell as typed, its line breaks as `\n` (a file saved on Windows has `\r\n`)."""
        value = self.cells.get(column, "") or ""
        if self.table.kind == "csv":  # the CSV export's formula guard; a sheet has none
            value = unneutralise(value)
        return lines(value) if "\r" in value else value

    def problem(self, column: str | None, message: str) -> None:
        where = self.table.where(self.line, self.index.get(column) if column else None)
        self.problems.append(
            Problem(self.line, column, str(where), str(message), self.cells.get(column or "", ""))
        )

    def code(self, column: str, allowed: Collection[str], *, pad: int = 0) -> str:
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

    def date(self, column: str) -> datetime.date | None:
        value = self.text(column).strip()
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value[:10] if "T" in value else value)
        except ValueError:
            self.problem(column, _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value})
            return None

    def decimal(self, column: str) -> Decimal | None:
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

    def integer(self, column: str) -> int | None:
        number = self.decimal(column)
        if number is None:
            return None
        if number != number.to_integral_value():
            self.problem(column, _("Give a whole number."))
            return None
        return int(number)

    def boolean(self, column: str) -> bool:
        value = self.text(column).strip().lower()
        if value in YES:
            return True
        if value not in NO:
            self.problem(column, _("Use yes or no."))
        return False


def _parse_history(row: Row) -> Steps | None:
    value = row.text("stage_history").strip()
    if not value:
        row.problem("stage_history", _("Give the stage history, e.g. planned:2019-03-01."))
        return None
    steps: Steps = []
    for entry in value.split("|"):
        stage, _sep, on = entry.strip().partition(":")
        if stage not in STAGES:
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


def _parse_grid(row: Row) -> dict[tuple[str, str], str]:
    cells: dict[tuple[str, str], str] = {}
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
            (phase, PHASES),
            (partner, PARTNER_TYPES),
            (level, PARTICIPATION_LEVELS),
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


def _parse_tags(row: Row, vocabulary: Vocabulary, column: str) -> list[Item]:
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
class Parsed:
    reference: str
    version: int | None
    fields: dict[str, Any]
    tags: dict[str, list[Item]]
    grid: dict[tuple[str, str], str] | None
    frameworks: dict[str, dict[str, Any]]
    history: Steps | None


def parse(row: Row, vocabulary: Vocabulary) -> Parsed:
    reference = row.text("reference").strip()
    version = row.integer("version") if row.has("version") and reference else None
    if reference and version is None and not row.problems:
        row.problem("version", _("Give the version the row was exported at."))
    fields: dict[str, Any] = {}
    for column in RECORD_TEXT:
        if row.has(column):
            fields[column] = row.text(column)
    if row.has("country"):
        fields["country_id"] = row.code("country", vocabulary.countries)
    if row.has("sector"):
        fields["sector_id"] = row.code("sector", vocabulary.sectors, pad=2)
    if row.has("level"):
        fields["level"] = row.code("level", LEVELS)
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
        told = {problem.column for problem in row.problems}
        for column in REQUIRED_TO_CREATE:
            if not row.has(column) or not row.text(column).strip():
                if column in told:  # an empty code cell, already refused: one message a cell
                    row.problems = [p for p in row.problems if p.column != column]
                row.problem(column, _("Required to create an initiative."))
    tags = {
        column: _parse_tags(row, vocabulary, column) for column in TAG_COLUMNS if row.has(column)
    }
    grid = _parse_grid(row) if row.has("participation_levels") else None
    frameworks: dict[str, dict[str, Any]] = {}
    for column, (name, field_name, kind) in FRAMEWORK_COLUMNS.items():
        if not row.has(column):
            continue
        value: Any
        if kind == "text":
            value = row.text(column)
        elif kind == "bool":
            value = row.boolean(column)
        elif kind == "decimal":
            value = row.decimal(column)
        else:
            value = row.text(column).strip()
            if value and value not in EVIDENCE_LEVELS:
                row.code(column, EVIDENCE_LEVELS)
        frameworks.setdefault(name, {})[field_name] = value
    history = _parse_history(row) if row.has("stage_history") else None
    return Parsed(reference, version, fields, tags, grid, frameworks, history)


def framework_changes(initiative: Initiative, name: str, values: dict[str, Any]) -> dict[str, Any]:
    """The values of the row that the stored framework does not already hold."""
    model = FRAMEWORK_MODELS[name]
    return changes_to(model.objects.filter(initiative=initiative).first(), name, values)


def changes_to(
    current: AccountabilityFramework | BudgetFramework | None, name: str, values: dict[str, Any]
) -> dict[str, Any]:
    """`framework_changes` against `current` (None: the initiative has no such framework)."""
    if current is None:
        blank = FRAMEWORK_MODELS[name]()
        return values if any(getattr(blank, k) != v for k, v in values.items()) else {}
    changed = {k: v for k, v in values.items() if not same_value(getattr(current, k), v)}
    # An amount with trailing zeros is the same amount.
    return {k: v for k, v in changed.items() if not _same_number(getattr(current, k), v)}


def _same_number(stored: Any, given: Any) -> bool:
    return isinstance(stored, Decimal) and isinstance(given, Decimal) and stored == given


def _column_of(name: str | None, key: str) -> str:
    if name in FIELD_COLUMNS:
        return FIELD_COLUMNS[name].get(key, _framework_column(name, key))
    if key.endswith("_id"):
        key = key.removesuffix("_id")
    return RECORD_COLUMNS.get(key, key)


def _framework_column(name: str, key: str) -> str:
    for column, (framework, field_name, _kind) in FRAMEWORK_COLUMNS.items():
        if framework == name and field_name == key:
            return column
    return key


def refused(row: Row, error: ValidationError, part: str | None = None) -> None:
    """A service's ValidationError as problems on the row's columns."""
    if hasattr(error, "error_dict"):
        for key, messages in error.message_dict.items():
            column = None if key == "__all__" else _column_of(part, key)
            row.problem(column, " ".join(messages))
    else:
        row.problem(None, " ".join(error.messages))
