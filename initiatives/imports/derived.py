"""The export's columns an import does not read, and what an edit to one of them means.

Labels follow from their codes (`stage_label` from `stage`), the participation summary from
`participation_levels`, and the review status, the verified badge and the timestamps are
written by coprod's workflows. An import reads none of them. So that an edit there is not
silently lost, a row that updates a record must leave them as the export wrote them: each
cell is compared with the stored record's export, in every language of the site (a file
exported under `/fr/` carries French labels), and an edited one refuses the row, naming
the column that holds the value.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .. import exports
from ..models import Initiative

if TYPE_CHECKING:
    from .rows import Row

#: Each column the import does not read, and the column to edit instead (None: nobody edits
#: it in a file; the workflows write it).
DERIVED = {
    "country_name": "country",
    "sector_label": "sector",
    "level_label": "level",
    "organisation_verified": None,
    "stage_label": "stage_history",
    "review_status": None,
    "review_status_label": None,
    "participation": "participation_levels",
    "objectives_labels": "objectives",
    "barriers_labels": "barriers",
    "barriers_addressed_labels": "barriers_addressed",
    "factors_labels": "factors",
    "evidence_level_label": "evidence_level",
    "published_at": None,
    "updated_at": None,
}
#: A timestamp read back from a spreadsheet (a fraction of a day) may be off by a little.
MOMENT_TOLERANCE = datetime.timedelta(seconds=1)
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


def _utc(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment


def _same_cell(cell: str, exported: Any) -> bool:
    """Whether a cell, as text, says what the export wrote (a typed value)."""
    cell = lines(cell).strip()
    if exported is None or exported == "":
        return cell == ""
    if isinstance(exported, bool):
        return cell.lower() in (YES if exported else NO)
    try:
        if isinstance(exported, datetime.datetime):
            given = _utc(datetime.datetime.fromisoformat(cell))
            return abs(given - _utc(exported)) <= MOMENT_TOLERANCE
        if isinstance(exported, datetime.date):
            return datetime.date.fromisoformat(cell[:10]) == exported
        if isinstance(exported, int | float | Decimal):
            return Decimal(cell) == Decimal(str(exported))
    except (ValueError, InvalidOperation):
        return False
    return cell == lines(str(exported)).strip()


def _exported(initiative: Initiative) -> dict[str, list[Any]]:
    """{column: the cell the export writes for the record, in each language}."""
    names = [name for name, _meaning in exports.columns()]
    wanted = [index for index, name in enumerate(names) if name in DERIVED]
    cells: dict[str, list[Any]] = {names[index]: [] for index in wanted}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            [row] = exports.rows(Initiative.objects.filter(pk=initiative.pk), typed=True)
        for index in wanted:
            cells[names[index]].append(row[index])
    return cells


def edited_elsewhere(row: Row, initiative: Initiative) -> bool:
    """Note a problem for each column of `DERIVED` the row changed; True if any."""
    present = [column for column in DERIVED if row.has(column)]
    if not present:
        return False
    exported = _exported(initiative)
    found = False
    for column in present:
        cell = row.text(column)
        if any(_same_cell(cell, value) for value in exported[column]):
            continue
        found = True
        instead = DERIVED[column]
        if instead:
            message = _(
                "The import does not read %(column)s: it follows from %(instead)s. Edit "
                "%(instead)s instead, and leave this cell as exported."
            ) % {"column": column, "instead": instead}
        else:
            message = _(
                "The import does not read %(column)s: coprod's workflows write it. Leave this "
                "cell as exported."
            ) % {"column": column}
        row.problem(column, message)
    return found
