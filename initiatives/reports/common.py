"""What every maturity report shares: which initiatives count and how shares are rounded."""

from decimal import Decimal

from core.numbers import percent, round_half_up

from ..models import Initiative

ONE_DECIMAL = Decimal("0.1")
__all__ = [
    "ONE_DECIMAL",
    "TAG_FIELDS",
    "labels_by_code",
    "percent",
    "public_initiatives",
    "rounded",
]

TAG_FIELDS = Initiative.REPORTED_TAGS


# Shares round as the survey's indicators do (core.numbers), so that the two columns compare.
rounded = round_half_up


def public_initiatives():
    """What the reports count: what the public sees (published, not archived)."""
    return Initiative.objects.published()


def labels_by_code(model, codes):
    """Objects by code in one query; their labels follow the active language."""
    return model.objects.in_bulk([code for code in codes if code is not None])
