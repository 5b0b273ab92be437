"""The maturity stage and its history, told as it happened.

One service for every door (site, API, admin, import): the history a new initiative starts
with, direct changes by staff, past changes recorded at their real date, corrections and
removals with a reason, confirmation of the dates a group reported, and the group's
proposals. After each write the history is put back in order, every entry's `from_stage`
follows from the one before, and the initiative's stage is the last entry's.

The module is a little over 600 lines because it is the one home of the stage rules: the
date rules, the writes that keep the history in order and the proposals all read the same
history helpers, and splitting them would put one rule in two places.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from .. import rules
from ..models import (
    Activity,
    ActivityEvent,
    ActivityKind,
    Initiative,
    Stage,
    StageChange,
    StageProposal,
    Visibility,
)
from .common import lock_at_version, require
from .notifications import _group_emails, notify

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: The order in which an initiative usually matures; a new initiative's dates follow it.
STAGE_ORDER: list[str] = [Stage.PLANNED, Stage.PILOT, Stage.EMBEDDED, Stage.DISCONTINUED]
STAGES = frozenset(Stage.values)


def since_field(stage: str) -> str:
    """The name every door gives the date a stage began: `pilot_since`."""
    return f"{stage}_since"


@overload
def _as_date(value: datetime.date) -> datetime.date: ...
@overload
def _as_date(value: datetime.date | None) -> datetime.date | None: ...
def _as_date(value: datetime.date | None) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _stage_label(stage: str) -> str:
    return str(Stage(stage).label)


def _since(stage: str, on: datetime.date) -> str:
    return _("“%(stage)s” since %(date)s") % {"stage": _stage_label(stage), "date": on.isoformat()}


#: No stage began before this: an earlier date is a typing slip (and no spreadsheet shows it
#: as a date).
EARLIEST = datetime.date(1900, 1, 1)


def _too_early(entry: str) -> str:
    return _("%(entry)s is before %(earliest)s; give the date it really began.") % {
        "entry": entry,
        "earliest": EARLIEST.isoformat(),
    }


def _confirms(by: User | None) -> bool:
    """Whether entries written by `by` are confirmed as written: staff who review, the system."""
    return by is None or rules.can_review(by)


def stage_dates_from(values: Mapping[str, Any]) -> dict[str, datetime.date | None]:
    """{stage: date} from a door's cleaned values named by `since_field`."""
    return {stage: values.get(since_field(stage)) for stage in STAGE_ORDER}


def check_initial_history(
    *,
    stage: str,
    dates: Mapping[str, datetime.date | None],
    today: datetime.date | None = None,
) -> list[tuple[str, datetime.date]]:
    """Check the history a new initiative starts with and return it as [(stage, date)].

    `stage` is where the initiative is today; `dates` maps stages to the date each began.
    The current stage needs its date; a stage after the current one (in `STAGE_ORDER`)
    cannot have one; no date lies in the future, and none is before an earlier stage's.
    Errors are keyed by the date's field (`since_field`) and name the conflicting entry.
    """
    today = today or timezone.localdate()
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage “%(stage)s”.") % {"stage": stage}})
    dated: dict[str, datetime.date] = {
        key: _as_date(value) for key, value in dates.items() if value
    }
    errors = {}
    for key in dated:
        if key not in Stage.values:
            errors["stage"] = _("Unknown stage “%(stage)s”.") % {"stage": key}
    if errors:
        raise ValidationError(errors)
    position = STAGE_ORDER.index(stage)
    if stage not in dated:
        errors[since_field(stage)] = _(
            "Give the date the initiative reached the stage “%(stage)s”."
        ) % {"stage": _stage_label(stage)}
    for later in STAGE_ORDER[position + 1 :]:
        if later in dated:
            errors[since_field(later)] = _(
                "The initiative is at the stage “%(stage)s”: it has no “%(later)s” date yet. "
                "Clear it, or choose the stage “%(later)s”."
            ) % {"stage": _stage_label(stage), "later": _stage_label(later)}
    previous = None
    for key in STAGE_ORDER[: position + 1]:
        if key not in dated or since_field(key) in errors:
            continue
        on = dated[key]
        if on > today:
            errors[since_field(key)] = _(
                "%(entry)s is in the future; give the date it really began."
            ) % {"entry": _since(key, on)}
        elif on < EARLIEST:
            errors[since_field(key)] = _too_early(_since(key, on))
        elif previous is not None and on < dated[previous]:
            errors[since_field(key)] = _("%(entry)s is before the earlier stage, %(earlier)s.") % {
                "entry": _since(key, on),
                "earlier": _since(previous, dated[previous]),
            }
        previous = key
    if errors:
        raise ValidationError(errors)
    return [(key, dated[key]) for key in STAGE_ORDER[: position + 1] if key in dated]


def check_history(
    steps: Sequence[tuple[str, datetime.date]],
    *,
    today: datetime.date | None = None,
    names: Sequence[str] | None = None,
) -> None:
    """Check a whole history, [(stage, date)] in order; the rule an import and a correction share.

    Dates never lie in the future and never go back; two entries in a row are never at the
    same stage. `names` optionally gives each step a name for the message (an entry of the
    stored history, or a position in an imported cell).
    """
    today = today or timezone.localdate()

    def name(index: int) -> str:  # only when a message needs it: many histories are checked at once
        return names[index] if names else _since(*steps[index])

    if not steps:
        raise ValidationError(_("The stage history needs at least one entry."))
    for index, (stage, on) in enumerate(steps):
        if stage not in STAGES:
            raise ValidationError(_("Unknown stage “%(stage)s”.") % {"stage": stage})
        if on > today:
            raise ValidationError(
                _("%(entry)s is in the future; give the date it really began.")
                % {"entry": name(index)}
            )
        if on < EARLIEST:
            raise ValidationError(_too_early(name(index)))
        if index == 0:
            continue
        before, before_on = steps[index - 1]
        if on < before_on:
            raise ValidationError(
                _("%(entry)s is before the earlier entry %(earlier)s.")
                % {"entry": name(index), "earlier": name(index - 1)}
            )
        if stage == before:
            raise ValidationError(
                _("%(entry)s follows %(earlier)s: the stage does not change.")
                % {"entry": name(index), "earlier": name(index - 1)}
            )


def initial_history(
    *,
    initiative: Initiative,
    steps: Iterable[tuple[str, datetime.date]],
    by: User | None,
    reason: str = "",
) -> list[StageChange]:
    """The first entries of a new initiative's history, not saved yet (an import's batch
    saves many at once; `write_initial_history` saves them one by one)."""
    now = timezone.now()
    confirmed = _confirms(by)
    entries = []
    previous = ""
    for stage, on in steps:
        entry = StageChange(
            initiative=initiative,
            from_stage=previous,
            to_stage=stage,
            changed_on=on,
            changed_at=now,
            changed_by=by,
            reason=reason or StageChange.RECORDED,
            confirmed_at=now if confirmed else None,
            confirmed_by=by if confirmed else None,
        )
        entry._history_user = by
        entries.append(entry)
        previous = stage
    return entries


def write_initial_history(
    *,
    initiative: Initiative,
    steps: Iterable[tuple[str, datetime.date]],
    by: User | None,
    reason: str = "",
) -> None:
    """The first entries of a new initiative's history (called by `initiative_create`)."""
    for entry in initial_history(initiative=initiative, steps=steps, by=by, reason=reason):
        entry.save()


def _entries(initiative: Initiative) -> list[StageChange]:
    return list(initiative.stage_changes.order_by("changed_on", "changed_at", "pk"))


def _renumber(
    initiative: Initiative, entries: Iterable[StageChange], *, by: User | None, reason: str
) -> None:
    """Make each entry follow the one before and the initiative's stage the last entry's.

    The initiative moves to its next version, its history row saying why; if its current
    stage changed, the group's open proposals no longer apply and are closed.
    """
    previous = ""
    for entry in entries:
        if entry.from_stage != previous:
            entry.from_stage = previous
            entry._history_user = by
            entry.save(update_fields=["from_stage"])
        previous = entry.to_stage
    was = initiative.stage
    initiative._change_reason = Truncator(reason).chars(100)
    _set_stage(initiative, previous, by=by)
    if initiative.stage != was:
        _supersede_proposals(initiative, by=by)


def _set_stage(initiative: Initiative, stage: str, *, by: User | None) -> None:
    initiative.stage = stage
    initiative.version += 1
    initiative.updated_at = timezone.now()
    initiative.updated_by = by
    initiative._history_user = by
    initiative.save()


def _lock(initiative: Initiative, expected_version: int | None = None) -> Initiative:
    return lock_at_version(initiative, expected_version)


def _check_move_reason(current: str, to_stage: str, reason: str | None) -> None:
    if current == Stage.DISCONTINUED and not (reason or "").strip():
        raise ValidationError(_("Give a reason to move an initiative out of “Discontinued”."))


def _check_new_latest(
    initiative: Initiative,
    to_stage: str,
    on: datetime.date,
    *,
    today: datetime.date,
    proposed: bool = False,
) -> None:
    """A change that becomes the current stage: after the latest entry, and a real change.

    `proposed`: the group proposes it, and is told what it can do about an earlier date.
    """
    if to_stage not in Stage.values:
        raise ValidationError(_("Unknown stage “%(stage)s”.") % {"stage": to_stage})
    if to_stage == initiative.stage:
        raise ValidationError(
            _("The initiative is already at the stage “%(stage)s”.")
            % {"stage": _stage_label(to_stage)}
        )
    if on > today:
        raise ValidationError(_("A stage change cannot be dated in the future."))
    latest = initiative.stage_changes.order_by("-changed_on", "-changed_at", "-pk").first()
    if latest is not None and on < latest.changed_on:
        if proposed:
            message = _(
                "The date %(date)s is before the latest entry of the stage history, "
                "%(entry)s. Give a date on or after it; if that entry is wrong, say so in "
                "the reason and your case officer will correct it."
            )
        else:
            message = _(
                "The date %(date)s is before the latest entry of the stage history, "
                "%(entry)s. Record the change as a past change, or correct that entry."
            )
        raise ValidationError(message % {"date": on.isoformat(), "entry": latest.describe()})


def _supersede_proposals(
    initiative: Initiative, *, by: User | None, keep: StageProposal | None = None
) -> None:
    """Close the group's open proposals: staff changed the stage, so they no longer apply."""
    open_proposals = initiative.stage_proposals.filter(status=StageProposal.Status.OPEN)
    if keep is not None:
        open_proposals = open_proposals.exclude(pk=keep.pk)
    closed = list(open_proposals.select_for_update())
    if not closed:
        return
    now = timezone.now()
    for proposal in closed:
        proposal.status = StageProposal.Status.SUPERSEDED
        proposal.decided_by = by
        proposal.decided_at = now
        # No note: the status says what happened, in the reader's language.
        proposal.save()
        # On the case page, where the proposal was shown as waiting, in the reader's language.
        Activity.for_event(
            ActivityEvent.PROPOSAL_SUPERSEDED,
            {"proposed": proposal.to_stage, "stage": initiative.stage},
            initiative=initiative,
            kind=ActivityKind.NOTE,
            visibility=Visibility.GROUP,
            author=by,
        ).save()
    notify(
        _group_emails(initiative),
        _("%(reference)s: your stage proposal was closed") % {"reference": initiative.reference},
        _(
            "A case officer changed the stage of “%(title)s” to “%(stage)s”, so your open "
            "proposal (%(proposed)s) was closed as superseded. Propose again if the stage "
            "is still not right."
        )
        % {
            "title": initiative.title,
            "stage": _stage_label(initiative.stage),
            "proposed": ", ".join(_stage_label(p.to_stage) for p in closed),
        },
    )


@transaction.atomic
def initiative_change_stage(
    *,
    initiative: Initiative,
    to_stage: str,
    by: User | None,
    reason: str = "",
    on: datetime.date | None = None,
    expected_version: int | None = None,
    _accepting: StageProposal | None = None,
) -> StageChange:
    """Move the current stage (staff), dated `on` (today by default, never before the latest
    entry). Writes the history and the timeline, and closes the group's open proposals."""
    initiative = _lock(initiative, expected_version)
    require(by, "initiatives.review_case", initiative, _("Only staff change the stage."))
    today = timezone.localdate()
    on = _as_date(on) or today
    _check_move_reason(initiative.stage, to_stage, reason)
    _check_new_latest(initiative, to_stage, on, today=today)
    now = timezone.now()
    change = StageChange(
        initiative=initiative,
        from_stage=initiative.stage,
        to_stage=to_stage,
        changed_on=on,
        changed_by=by,
        reason=reason,
        confirmed_at=now,
        confirmed_by=by,
    )
    change._history_user = by
    change.save()
    Activity.for_event(
        ActivityEvent.STAGE_CHANGED,
        {"from": initiative.stage, "to": to_stage, "reason": reason},
        initiative=initiative,
        kind=ActivityKind.STAGE,
        date=on,
        author=by,
    ).save()
    # The history row says why, as the stage history does (its column holds 100 characters;
    # the stage history keeps the whole reason).
    initiative._change_reason = Truncator(reason).chars(100)
    _set_stage(initiative, to_stage, by=by)
    _supersede_proposals(initiative, by=by, keep=_accepting)
    return change


def _require_reason(reason: str | None) -> None:
    if not (reason or "").strip():
        raise ValidationError(_("Give the reason for this change to the stage history."))


def _stored_order(entry: StageChange) -> tuple[datetime.date, datetime.datetime, int]:
    """The order the history is read back in (`_entries`, the exports, the reports)."""
    return (entry.changed_on, entry.changed_at, entry.pk or 0)


def _apply_history(
    initiative: Initiative,
    entries: Sequence[StageChange],
    *,
    by: User | None,
    changed: Sequence[StageChange],
    reason: str,
    insert: bool,
) -> None:
    """Check the history as it will be, then store it: `entries` is the whole history with
    `changed` (new or edited entries among them) not yet saved.

    `insert`: a new entry takes its place by its date. Otherwise (a correction) every entry
    keeps its place, so a date that would move an entry past a neighbour is refused, naming
    that neighbour, rather than silently reordering the history and the current stage.
    """
    if insert:
        entries = sorted(entries, key=_stored_order)
    check_history(
        [(e.to_stage, e.changed_on) for e in entries], names=[e.describe() for e in entries]
    )
    if not insert and entries != sorted(entries, key=_stored_order):
        # On a neighbour's very date, the corrected entry would be read back in its place.
        entry = next(iter(changed))
        other = next(e for e in entries if e is not entry and e.changed_on == entry.changed_on)
        raise ValidationError(
            _(
                "%(entry)s would share its date with %(other)s, and the history would read "
                "them in the other order: give it its own date, or remove it and record it "
                "again."
            )
            % {"entry": entry.describe(), "other": other.describe()}
        )
    for entry in changed:
        entry._history_user = by
        entry.save()
    _renumber(initiative, entries, by=by, reason=reason)


def _log(
    initiative: Initiative,
    *,
    by: User | None,
    on: datetime.date,
    event: str,
    params: Mapping[str, object] | None = None,
) -> None:
    """A timeline entry for the group and staff; its words follow the reader's language."""
    Activity.for_event(
        event,
        params,
        initiative=initiative,
        kind=ActivityKind.STAGE,
        visibility=Visibility.GROUP,
        date=on,
        author=by,
    ).save()


def _entry_params(entry: StageChange, prefix: str = "") -> dict[str, str]:
    return {f"{prefix}stage": entry.to_stage, f"{prefix}date": entry.changed_on.isoformat()}


@transaction.atomic
def stage_history_record(
    *,
    initiative: Initiative,
    to_stage: str,
    on: datetime.date,
    by: User | None,
    reason: str,
    expected_version: int | None = None,
) -> StageChange:
    """Record a past stage change at its real date, inserted in order (staff).

    A change dated after every entry moves the current stage, as `initiative_change_stage`.
    """
    initiative = _lock(initiative, expected_version)
    require(by, "initiatives.review_case", initiative, _("Only staff change the stage."))
    _require_reason(reason)
    if to_stage not in Stage.values:
        raise ValidationError(_("Unknown stage “%(stage)s”.") % {"stage": to_stage})
    on = _as_date(on)
    now = timezone.now()
    entry = StageChange(
        initiative=initiative,
        to_stage=to_stage,
        changed_on=on,
        changed_by=by,
        reason=reason,
        confirmed_at=now,
        confirmed_by=by,
    )
    _apply_history(
        initiative,
        [*_entries(initiative), entry],
        by=by,
        changed=[entry],
        reason=reason,
        insert=True,
    )
    _log(
        initiative,
        by=by,
        on=on,
        event=ActivityEvent.STAGE_RECORDED,
        params={**_entry_params(entry), "reason": reason},
    )
    return entry


def _correctable(
    entry: StageChange, *, by: User | None, reason: str, expected_version: int | None
) -> tuple[Initiative, list[StageChange], StageChange]:
    """The locked initiative, its stage history and `entry` as it stands in it, for a
    correction or removal by staff with a reason."""
    initiative = _lock(entry.initiative, expected_version)
    require(by, "initiatives.review_case", initiative, _("Only staff correct the stage history."))
    _require_reason(reason)
    entries = _entries(initiative)
    target = next((e for e in entries if e.pk == entry.pk), None)
    if target is None:
        raise ValidationError(_("This entry is no longer in the stage history."))
    return initiative, entries, target


@transaction.atomic
def stage_history_correct(
    *,
    entry: StageChange,
    by: User | None,
    reason: str,
    on: datetime.date | None = None,
    to_stage: str | None = None,
    expected_version: int | None = None,
) -> StageChange:
    """Correct an entry's date or stage (staff), with a reason kept in the entry's history.

    The entry keeps its place in the history: a date past a neighbour's is refused.
    """
    initiative, entries, target = _correctable(
        entry, by=by, reason=reason, expected_version=expected_version
    )
    before = _entry_params(target, "before_")
    on = _as_date(on) if on is not None else target.changed_on
    to_stage = to_stage or target.to_stage
    if (to_stage, on) == (target.to_stage, target.changed_on):
        raise ValidationError(
            _("%(entry)s already says this: give the corrected date or stage.")
            % {"entry": target.describe()}
        )
    target.changed_on, target.to_stage = on, to_stage
    target._change_reason = reason
    target.confirmed_at, target.confirmed_by = timezone.now(), by
    _apply_history(initiative, entries, by=by, changed=[target], reason=reason, insert=False)
    _log(
        initiative,
        by=by,
        on=timezone.localdate(),
        event=ActivityEvent.STAGE_CORRECTED,
        params={**before, **_entry_params(target), "reason": reason},
    )
    return target


@transaction.atomic
def stage_history_remove(
    *, entry: StageChange, by: User | None, reason: str, expected_version: int | None = None
) -> None:
    """Remove a wrong entry (staff); the entry's history keeps it with the reason."""
    initiative, entries, target = _correctable(
        entry, by=by, reason=reason, expected_version=expected_version
    )
    remaining = [e for e in entries if e.pk != target.pk]
    if not remaining:
        raise ValidationError(_("The stage history needs at least one entry."))
    check_history(
        [(e.to_stage, e.changed_on) for e in remaining], names=[e.describe() for e in remaining]
    )
    target._history_user = by
    target._change_reason = reason
    target.delete()
    _renumber(initiative, remaining, by=by, reason=reason)
    _log(
        initiative,
        by=by,
        on=timezone.localdate(),
        event=ActivityEvent.STAGE_REMOVED,
        params={**_entry_params(target), "reason": reason},
    )


@transaction.atomic
def stage_history_replace(
    *,
    initiative: Initiative,
    steps: Sequence[tuple[str, datetime.date]],
    by: User | None,
    reason: str,
) -> bool:
    """Make the history `steps` ([(stage, date)] in order), as an import states it (staff).

    Entries that stay (same stage, same date) are kept as they are, with their reason and
    confirmation; the others are removed and the new ones written, each kept in the
    entries' history with `reason`. Returns True if anything changed.
    """
    initiative = _lock(initiative)
    require(by, "initiatives.review_case", initiative, _("Only staff change the stage history."))
    check_history(steps)
    entries = _entries(initiative)
    if [(e.to_stage, e.changed_on) for e in entries] == list(steps):
        return False
    kept, wanted = [], list(steps)
    for entry in entries:
        if (entry.to_stage, entry.changed_on) in wanted:
            wanted.remove((entry.to_stage, entry.changed_on))
            kept.append(entry)
        else:
            entry._history_user = by
            entry._change_reason = reason
            entry.delete()
    now = timezone.now()
    confirmed = _confirms(by)
    for stage, on in wanted:
        entry = StageChange(
            initiative=initiative,
            to_stage=stage,
            changed_on=on,
            changed_by=by,
            reason=reason,
            confirmed_at=now if confirmed else None,
            confirmed_by=by if confirmed else None,
        )
        entry._history_user = by
        entry._change_reason = reason
        entry.save()
        kept.append(entry)
    kept.sort(key=lambda e: (e.changed_on, STAGE_ORDER.index(e.to_stage), e.pk))
    _renumber(initiative, kept, by=by, reason=reason)
    return True


@transaction.atomic
def stage_history_confirm(
    *, initiative: Initiative, by: User | None, expected_version: int | None = None
) -> int:
    """A case officer confirms the dates the group reported (as of `expected_version`, the
    record they saw); returns how many. The record moves to its next version."""
    initiative = _lock(initiative, expected_version)
    require(by, "initiatives.review_case", initiative, _("Only staff confirm stage dates."))
    count = initiative.stage_changes.filter(confirmed_at__isnull=True).update(
        confirmed_at=timezone.now(), confirmed_by=by
    )
    if count:
        initiative._change_reason = _("Stage dates confirmed.")
        _set_stage(initiative, initiative.stage, by=by)
        _log(
            initiative,
            by=by,
            on=timezone.localdate(),
            event=ActivityEvent.STAGE_CONFIRMED,
        )
    return count


def check_proposal(
    initiative: Initiative,
    to_stage: str,
    effective_on: datetime.date,
    reason: str,
    *,
    today: datetime.date | None = None,
) -> None:
    """The rules a proposal meets when made: the checks of a direct change at that date."""
    today = today or timezone.localdate()
    if not (reason or "").strip():
        raise ValidationError(_("Say why the stage should change."))
    _check_move_reason(initiative.stage, to_stage, reason)
    _check_new_latest(initiative, to_stage, effective_on, today=today, proposed=True)


@transaction.atomic
def stage_proposal_create(
    *,
    initiative: Initiative,
    to_stage: str,
    by: User | None,
    reason: str,
    effective_on: datetime.date | None = None,
) -> StageProposal:
    """A group member proposes a stage change that took effect on `effective_on` (today by
    default); allowed at any review status. A case officer accepts or declines it."""
    require(
        by,
        "initiatives.change_case",
        initiative,
        _("Only the group's members propose a stage change."),
    )
    effective_on = _as_date(effective_on) or timezone.localdate()
    check_proposal(initiative, to_stage, effective_on, reason)
    proposal = StageProposal.objects.create(
        initiative=initiative,
        to_stage=to_stage,
        reason=reason,
        proposed_by=by,
        effective_on=effective_on,
    )
    # A proposal is the group's business with its case officer, as on the case page.
    Activity.for_event(
        ActivityEvent.STAGE_PROPOSED,
        {"to": to_stage, "date": effective_on.isoformat(), "reason": reason},
        initiative=initiative,
        kind=ActivityKind.NOTE,
        visibility=Visibility.GROUP,
        author=by,
    ).save()
    return proposal


@transaction.atomic
def stage_proposal_decide(
    *, proposal: StageProposal, by: User | None, accept: bool, note: str = ""
) -> StageProposal:
    proposal = StageProposal.objects.select_for_update().get(pk=proposal.pk)
    require(
        by, "initiatives.review_case", proposal.initiative, _("Only staff decide stage proposals.")
    )
    if proposal.status != StageProposal.Status.OPEN:
        raise ValidationError(_("This proposal was already decided."))
    proposal.status = StageProposal.Status.ACCEPTED if accept else StageProposal.Status.DECLINED
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.decision_note = note
    proposal.save()
    if accept:
        initiative_change_stage(
            initiative=proposal.initiative,
            to_stage=proposal.to_stage,
            by=by,
            reason=proposal.reason,
            on=proposal.effective_on,
            _accepting=proposal,
        )
    return proposal
