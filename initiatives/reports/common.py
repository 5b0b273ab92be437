"""What every maturity report shares: which initiatives count and how shares are rounded."""

from decimal import ROUND_HALF_UP, Decimal

from ..models import Initiative

ONE_DECIMAL = Decimal("0.1")

# The tag list of an initiative that speaks the vocabulary of each survey question.
TAG_FIELDS = {"reasons": "objectives", "barriers": "barriers", "factors": "factors"}


def percent(part, whole):
    """`part` as a percentage of `whole`, one decimal, half away from zero; None if whole is 0.

    The same rounding as the survey's indicators, so that the two columns compare.
    """
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def rounded(value):
    if value is None:
        return None
    return Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def public_initiatives():
    """What the reports count: what the public sees (published, not archived)."""
    return Initiative.objects.published()


def labels_by_code(model, codes):
    """Objects by code in one query; their labels follow the active language."""
    return model.objects.in_bulk([code for code in codes if code is not None])
