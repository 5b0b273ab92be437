"""New initiatives of a register, checked row by row and written a batch at a time.

A row without a reference is checked as it is read, by the same functions the per-row
path reaches through `initiative_create`, `write_grid` and `write_framework`
(`services.initiative_build`, `check_participation`, `check_framework`), so that it is
refused with the same messages on the same line and column. What those services would then
save one row at a time is saved here for the whole batch: the references in one locked
update (`services.next_references`), then one insert per table for the initiatives, their
tag lists, stage entries, participations and frameworks, and for the history rows of
each, named after the importer as the services name them. The history of an initiative
holds the same row as if `initiative_create` had saved it: one, with its tag lists.

The vocabulary (codes, organisations, survey items) is read once for the whole import
(`rows.Vocabulary`); the foreign keys of the record are checked against it, so
`full_clean` does not look each one up again (`initiative_build(looked_up=True)`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core import reportcache

from .. import services
from ..models import (
    AccountabilityFramework,
    BudgetFramework,
    Initiative,
    Participation,
    StageChange,
)
from .rows import FRAMEWORK_MODELS, Parsed, Row, Steps, changes_to, refused

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from survey.models import Item


@dataclass
class _New:
    """A checked row waiting for its batch to be written."""

    line: int
    initiative: Initiative
    steps: Steps
    tags: dict[str, list[Item]]
    participations: list[Participation]
    frameworks: list[AccountabilityFramework | BudgetFramework]
    entries: list[StageChange] = field(default_factory=list)


class Batch:
    """The new initiatives of consecutive rows, written together by `write`."""

    def __init__(self, by: User | None) -> None:
        self.by = by
        self.pending: list[_New] = []

    def __len__(self) -> int:
        return len(self.pending)

    def add(self, row: Row, parsed: Parsed) -> None:
        """Check the row as creating it would; its problems go on `row`, otherwise it waits
        for `write`."""
        by = self.by
        try:
            initiative, steps = services.initiative_build(
                by=by,
                history=parsed.history or None,
                tags=parsed.tags,
                looked_up=True,
                **parsed.fields,
            )
            initiative._history_user = by  # as `initiative_create` names who saved it
            participations = []
            for (phase, partner_type), level in (parsed.grid or {}).items():
                participation = Participation(
                    initiative=initiative, phase=phase, partner_type=partner_type, level=level
                )
                services.check_participation(participation, new_initiative=True)
                participation._history_user = by
                participations.append(participation)
        except ValidationError as error:
            refused(row, error)
            return
        frameworks: list[AccountabilityFramework | BudgetFramework] = []
        for name, values in parsed.frameworks.items():
            values = changes_to(None, name, values)
            if not values:
                continue
            framework = FRAMEWORK_MODELS[name](initiative=initiative, **values)
            try:
                services.check_framework(framework)
            except ValidationError as error:
                refused(row, error, name)
                return
            framework._history_user = by
            frameworks.append(framework)
        tags = {column: items for column, items in parsed.tags.items() if items}
        self.pending.append(_New(row.line, initiative, steps, tags, participations, frameworks))

    def write(self) -> list[tuple[int, str]]:
        """Save the waiting rows; returns (line, reference) of each, in the file's order."""
        pending, self.pending = self.pending, []
        if not pending:
            return []
        by = self.by
        by_year: dict[int, list[Initiative]] = {}
        for new in pending:
            by_year.setdefault(new.initiative.created_at.year, []).append(new.initiative)
        for year, initiatives in by_year.items():
            references = services.next_references(year=year, count=len(initiatives))
            for initiative, reference in zip(initiatives, references, strict=True):
                initiative.reference = reference
        Initiative.objects.bulk_create([new.initiative for new in pending])
        through_ids = _write_tags(pending)
        _write_initiative_history(pending, through_ids)
        for new in pending:
            new.entries = services.initial_history(
                initiative=new.initiative, steps=new.steps, by=by
            )
        _create_with_history(StageChange, [e for new in pending for e in new.entries])
        _create_with_history(Participation, [p for new in pending for p in new.participations])
        for model in FRAMEWORK_MODELS.values():
            frameworks = [f for new in pending for f in new.frameworks if type(f) is model]
            _create_with_history(model, frameworks)
        # Bulk inserts send no signal: say once that the reports' data changed.
        reportcache.data_changed()
        return [(new.line, new.initiative.reference) for new in pending]


def _create_with_history(model: type[models.Model], objects: list[Any]) -> None:
    """Insert `objects` and their "+" history rows (`_history_user` names who)."""
    if not objects:
        return
    model._default_manager.bulk_create(objects)
    model.history.bulk_history_create(objects, default_change_reason=None)  # type: ignore[attr-defined]


def _write_tags(pending: list[_New]) -> dict[tuple[str, int, int], int]:
    """Insert the tag lists; returns the id of each link, {(field, initiative, item): id}."""
    ids = {}
    for column in Initiative.TAG_FIELDS:
        through = getattr(Initiative, column).through
        links, seen = [], set()
        for new in pending:
            for item in new.tags.get(column, []):
                key = (column, new.initiative.pk, item.pk)
                if key not in seen:
                    seen.add(key)
                    links.append(through(initiative_id=new.initiative.pk, item_id=item.pk))
        for link in through.objects.bulk_create(links):
            ids[(column, link.initiative_id, link.item_id)] = link.pk
    return ids


def _write_initiative_history(
    pending: list[_New], through_ids: dict[tuple[str, int, int], int]
) -> None:
    """The row `initiative_create` leaves in the history (`Initiative.edit_history`): one
    "+" row per initiative, holding the record and its tag lists as saved."""
    history = Initiative.history.model
    records = []
    for new in pending:
        initiative = new.initiative
        values = {f.attname: getattr(initiative, f.attname) for f in history.tracked_fields}
        records.append(_record(history, values, "+", timezone.now(), initiative))
    history.objects.bulk_create(records)
    for column in Initiative.TAG_FIELDS:
        # simple-history's table of the tag list's snapshots
        model = HistoricalRecords.m2m_models[Initiative._meta.get_field(column)]
        rows = [
            model(
                id=through_ids[(column, new.initiative.pk, item.pk)],
                initiative_id=new.initiative.pk,
                item_id=item.pk,
                history=record,
            )
            for record, new in zip(records, pending, strict=True)
            for item in _unique(new.tags.get(column, []))
        ]
        model.objects.bulk_create(rows)


def _record(
    history: Any, values: dict[str, Any], kind: str, when: datetime.datetime, initiative: Initiative
) -> Any:
    return history(
        history_date=when,
        history_type=kind,
        history_user=getattr(initiative, "_history_user", None),
        history_change_reason=None,
        **values,
    )


def _unique(items: list[Item]) -> list[Item]:
    return list({item.pk: item for item in items}.values())
