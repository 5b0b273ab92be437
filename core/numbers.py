"""How coprod rounds every figure it shows or exports.

Half away from zero (42.25 → 42.3), on decimals, never Python's `round`, which rounds half
to even and works on binary floats. The survey indicators, the maturity reports, the
charts and the CSV files all round here, so that a figure printed twice reads the same.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import overload

#: What `round_half_up` takes: a number, or its text.
Number = int | float | str | Decimal


@overload
def round_half_up(value: Number, places: int = 1) -> Decimal: ...
@overload
def round_half_up(value: None, places: int = 1) -> None: ...
def round_half_up(value: Number | None, places: int = 1) -> Decimal | None:
    """`value` (int, float, str or Decimal) to `places` decimals; None stays None."""
    if value is None:
        return None
    step = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)


def percent(part: int | Decimal, whole: int | Decimal, places: int = 1) -> Decimal | None:
    """`part` as a percentage of `whole`, rounded; None when `whole` is 0 (no data)."""
    if not whole:
        return None
    return round_half_up(Decimal(part * 100) / Decimal(whole), places)
