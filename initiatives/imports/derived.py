"""The export's columns an import does not read, and what an edit to one of them means.

Labels follow from their codes (`stage_label` from `stage`), the participation summary from
`participation_levels`, and the review status, the verified badge and the timestamps are
written by coprod's workflows. An import reads none of them.

Some of them move only with the record's version: the review status and its label, the
timestamps, the participation summary and the labels of the record's own codes (stage,
level, evidence). A row that updates a record at the version it was exported at must leave
those as the export wrote them (in any of the site's languages: a file exported under `/fr/`
carries French labels), so that an edit there is refused, naming the column to edit
instead, rather than silently lost (`CHECKED`). The others can change while the record's
version does not (a country renamed in the vocabulary, an organisation verified meanwhile),
so an honest file may differ from today's record there: they are read past (`READ_PAST`).
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from core.spreadsheets import utc_naive

from .. import exports
from ..models import BudgetFramework, EvidenceLevel, Initiative, Level, ReviewStatus, Stage
from .rows import NO, YES, Row, lines

if TYPE_CHECKING:
    from django.db import models

#: Columns the import reads past whose value moves only with the record's version, and the
#: column to edit instead (None: the workflows write it).
CHECKED = {
    "stage_label": "stage_history",
    "level_label": "level",
    "review_status": None,
    "review_status_label": None,
    "participation": "participation_levels",
    "evidence_level_label": "evidence_level",
    "published_at": None,
    "updated_at": None,
}
#: Columns the import reads past that may change without the record's version moving.
READ_PAST = {
    "country_name": "country",
    "sector_label": "sector",
    "organisation_verified": None,
    "objectives_labels": "objectives",
    "barriers_labels": "barriers",
    "barriers_addressed_labels": "barriers_addressed",
    "factors_labels": "factors",
}
#: Every column of the export the import does not read.
DERIVED = CHECKED | READ_PAST
#: A timestamp read back from a spreadsheet (a fraction of a day) may be off by a little.
MOMENT_TOLERANCE = datetime.timedelta(seconds=1)


def _same_cell(cell: str, exported: Any) -> bool:
    """Whether a cell, as text, says what the export wrote (a typed value)."""
    cell = lines(cell).strip()
    if exported is None or exported == "":
        return cell == ""
    if isinstance(exported, bool):
        return cell.lower() in (YES if exported else NO)
    try:
        if isinstance(exported, datetime.datetime):
            given = utc_naive(datetime.datetime.fromisoformat(cell))
            return abs(given - utc_naive(exported)) <= MOMENT_TOLERANCE
        if isinstance(exported, datetime.date):
            return datetime.date.fromisoformat(cell[:10]) == exported
        if isinstance(exported, int | float | Decimal):
            return Decimal(cell) == Decimal(str(exported))
    except (ValueError, InvalidOperation):
        return False
    return cell == lines(str(exported)).strip()


def _labels(choices: type[models.Choices]) -> dict[str, set[str]]:
    """Each code's label in every language of the site."""
    labels: dict[str, set[str]] = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code, label in choices.choices:
                labels.setdefault(code, set()).add(str(label))
    return labels


class DerivedCheck:
    """The check of `CHECKED` for the rows of one import; the labels are read once."""

    def __init__(self) -> None:
        self.labels = {
            "stage_label": _labels(Stage),
            "level_label": _labels(Level),
            "review_status_label": _labels(ReviewStatus),
            "evidence_level_label": _labels(EvidenceLevel),
        }

    def _exported(self, initiative: Initiative, columns: list[str]) -> dict[str, list[Any]]:
        """{column: what the export may have written for the record at its version}."""
        evidence = (
            BudgetFramework.objects.filter(initiative=initiative)
            .values_list("evidence_level", flat=True)
            .first()
            or ""
        )
        codes = {
            "stage_label": initiative.stage,
            "level_label": initiative.level,
            "review_status_label": initiative.review_status,
            "evidence_level_label": evidence,
        }
        cells: dict[str, list[Any]] = {}
        for column in columns:
            if column in codes:
                cells[column] = sorted(self.labels[column].get(codes[column], {""}))
            elif column == "participation":
                entries = initiative.participations.values_list("phase", "partner_type", "level")
                cells[column] = [exports.participation_cells(entries)[0]]
            else:
                cells[column] = [getattr(initiative, column)]
        return cells

    def edited(self, row: Row, initiative: Initiative) -> bool:
        """Note a problem for each column of `CHECKED` the row changed; True if any."""
        present = [column for column in CHECKED if row.has(column)]
        if not present:
            return False
        exported = self._exported(initiative, present)
        found = False
        for column in present:
            if any(_same_cell(row.text(column), value) for value in exported[column]):
                continue
            found = True
            instead = CHECKED[column]
            if instead:
                message = _(
                    "The import does not read %(column)s: it follows from %(instead)s. Edit "
                    "%(instead)s instead, and leave this cell as exported."
                ) % {"column": column, "instead": instead}
            else:
                message = _(
                    "The import does not read %(column)s: coprod's workflows write it. Leave "
                    "this cell as exported."
                ) % {"column": column}
            row.problem(column, message)
        return found
