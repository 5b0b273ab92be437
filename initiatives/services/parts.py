"""The parts of an initiative's record: who does what (participations) and the frameworks.

Each write takes the initiative's version that the caller saw and claims it first
(`claim_version`, a conditional UPDATE that also locks the initiative's row), so that of two
writers holding one version exactly one wins, and the part write happens inside the same
transaction: a refused write changes nothing. `expected_version=None` (a create or delete
sent without If-Match) still takes the lock, so concurrent writers queue instead of racing.

The edit pages of the site and the admin save the record and its parts as one write: they
claim the version once, through `initiative_update`, and then call the `write_*` functions
here inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..models import AccountabilityFramework, BudgetFramework, Participation
from .common import claim_version

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..models import Initiative

Framework = AccountabilityFramework | BudgetFramework

FRAMEWORKS: dict[str, type[AccountabilityFramework] | type[BudgetFramework]] = {
    "accountability": AccountabilityFramework,
    "budget": BudgetFramework,
}


class CellTaken(ValidationError):
    """The phase already has this partner type: one participation per cell."""

    def __init__(self) -> None:
        super().__init__(
            {"partner_type": _("This partner type is already recorded for this phase.")},
            code="cell_taken",
        )


def _require_held(initiative: Initiative) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("write the parts inside the transaction that claimed the version")


def write_participation(
    *, participation: Participation, by: User | None, values: Mapping[str, Any]
) -> Participation:
    """Save one participation with `values`; the caller holds the initiative's version."""
    _require_held(participation.initiative)
    for name, value in values.items():
        setattr(participation, name, value)
    clash = Participation.objects.filter(
        initiative=participation.initiative_id,
        phase=participation.phase,
        partner_type=participation.partner_type,
    ).exclude(pk=participation.pk)
    if clash.exists():
        raise CellTaken()
    check_participation(participation)
    participation._history_user = by
    try:
        with transaction.atomic():
            participation.save()
    except IntegrityError:
        # Written meanwhile by a writer that did not claim the version (the unique
        # constraint is the last word); the same answer as the check above.
        raise CellTaken() from None
    return participation


def check_participation(participation: Participation, *, new_initiative: bool = False) -> None:
    """The rules of one participation's values; one per cell is the caller's to check.

    `new_initiative=True`: the initiative is not saved yet (an import's batch), so it is
    not looked up.
    """
    participation.full_clean(
        exclude=["initiative"] if new_initiative else None,
        validate_unique=False,
        validate_constraints=False,
    )


def check_framework(framework: Framework) -> None:
    """The rules of a framework's values, before it is saved."""
    framework.full_clean(exclude=["initiative"])


def write_grid(
    *,
    initiative: Initiative,
    by: User | None,
    cells: Mapping[tuple[str, str], tuple[str, str]],
) -> bool:
    """Make the participations match `cells` ({(phase, partner type): (level, role)}).

    Returns True if anything changed. The caller holds the initiative's version.
    """
    _require_held(initiative)
    chosen = dict(cells)
    changed = False
    for participation in Participation.objects.filter(initiative=initiative):
        key = (participation.phase, participation.partner_type)
        if key not in chosen:
            participation._history_user = by
            participation.delete()
            changed = True
            continue
        level, role = chosen.pop(key)
        if (participation.level, participation.role) != (level, role):
            write_participation(
                participation=participation, by=by, values={"level": level, "role": role}
            )
            changed = True
    for (phase, partner_type), (level, role) in chosen.items():
        participation = Participation(initiative=initiative)
        values = {"phase": phase, "partner_type": partner_type, "level": level, "role": role}
        write_participation(participation=participation, by=by, values=values)
        changed = True
    return changed


def write_framework(
    *, initiative: Initiative, name: str, by: User | None, values: Mapping[str, Any]
) -> Framework:
    """Create or change the initiative's `name` framework; the caller holds its version."""
    _require_held(initiative)
    model = FRAMEWORKS[name]
    framework = model.objects.select_for_update().filter(initiative=initiative).first()
    if framework is None:
        framework = model(initiative=initiative)
    for field, value in values.items():
        setattr(framework, field, value)
    check_framework(framework)
    framework._history_user = by
    framework.save()
    return framework


@transaction.atomic
def participation_create(
    *, initiative: Initiative, by: User | None, expected_version: int | None, **values: Any
) -> Participation:
    claim_version(initiative=initiative, by=by, expected_version=expected_version)
    return write_participation(
        participation=Participation(initiative=initiative), by=by, values=values
    )


@transaction.atomic
def participation_update(
    *,
    participation: Participation,
    by: User | None,
    expected_version: int | None,
    **values: Any,
) -> Participation:
    initiative = participation.initiative
    claim_version(initiative=initiative, by=by, expected_version=expected_version)
    current = Participation.objects.get(pk=participation.pk, initiative=initiative)
    current.initiative = initiative
    return write_participation(participation=current, by=by, values=values)


@transaction.atomic
def participation_delete(
    *, participation: Participation, by: User | None, expected_version: int | None
) -> None:
    claim_version(initiative=participation.initiative, by=by, expected_version=expected_version)
    participation._history_user = by
    participation.delete()


@transaction.atomic
def participations_replace(
    *,
    initiative: Initiative,
    by: User | None,
    expected_version: int | None,
    cells: Mapping[tuple[str, str], tuple[str, str]],
) -> bool:
    """The whole grid at once; see `write_grid`."""
    claim_version(initiative=initiative, by=by, expected_version=expected_version)
    return write_grid(initiative=initiative, by=by, cells=cells)


@transaction.atomic
def framework_save(
    *,
    initiative: Initiative,
    name: str,
    by: User | None,
    expected_version: int | None,
    values: Mapping[str, Any],
) -> Framework:
    """Record the accountability or budget framework (`name`) under the version lock."""
    claim_version(initiative=initiative, by=by, expected_version=expected_version)
    return write_framework(initiative=initiative, name=name, by=by, values=values)
