from decimal import Decimal

import pytest

from core.numbers import percent, round_half_up


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("42.25"), 1, Decimal("42.3")),  # Python's round() would give 42.2
        (0.125, 2, Decimal("0.13")),  # binary 0.125 is exact; half goes up, not to even
        (2.675, 2, Decimal("2.68")),  # the float's shortest repr is rounded, not its binary
        (Decimal("-1.25"), 1, Decimal("-1.3")),  # half away from zero
        ("7.5", 0, Decimal("8")),
        (3, 1, Decimal("3.0")),
    ],
)
def test_figures_round_half_away_from_zero(value, places, expected):
    assert round_half_up(value, places) == expected
    assert str(round_half_up(value, places)) == str(expected)


def test_no_value_stays_no_value():
    assert round_half_up(None) is None
    assert percent(3, 0) is None


def test_a_share_as_the_survey_rounds_it():
    assert percent(1, 8) == Decimal("12.5")
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(1, 6, places=0) == Decimal("17")
