"""The survey formula of docs/DOMAIN.md, on its worked example and its edge cases."""

from decimal import Decimal

import pytest

from survey.models import Question, Wave
from survey.reports import indicator_rows
from tests.factories import WaveFactory, answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def barriers():
    return Question.objects.get(code="barriers")


@pytest.fixture
def worked_example():
    """2 FIN respondents answer barriers for 03 and 07 (4 pairs); 1 CAN for 07 (1 pair).
    `resources` is ticked by 2 FIN pairs and the CAN pair."""
    wave = WaveFactory(code="EXAMPLE")
    answer(wave, "FIN", "fi-1", "03", "barriers", {"resources": True, "resistance": False})
    answer(wave, "FIN", "fi-1", "07", "barriers", {"resources": True})
    answer(wave, "FIN", "fi-2", "03", "barriers", {"resources": False, "resistance": True})
    answer(wave, "FIN", "fi-2", "07", "barriers", {"incentives": True})
    answer(wave, "CAN", "ca-1", "07", "barriers", {"resources": True, "evidence": False})
    return wave


def by_item(rows):
    return {row.item.code: row for row in rows}


def test_worked_example_overall(worked_example, barriers):
    rows = by_item(indicator_rows(wave=worked_example, question=barriers))
    assert (rows["resources"].affirmative, rows["resources"].responses) == (3, 5)
    assert rows["resources"].percent == 60.0
    assert rows["resistance"].percent == 20.0
    assert rows["incentives"].percent == 20.0
    assert rows["evidence"].percent == 0.0


def test_country_restriction_restricts_both_counts(worked_example, barriers):
    fin = by_item(indicator_rows(wave=worked_example, question=barriers, country="FIN"))
    can = by_item(indicator_rows(wave=worked_example, question=barriers, country="CAN"))
    assert (fin["resources"].affirmative, fin["resources"].responses) == (2, 4)
    assert fin["resources"].percent == 50.0
    assert can["resources"].percent == 100.0


def test_sector_restriction(worked_example, barriers):
    rows = by_item(indicator_rows(wave=worked_example, question=barriers, sector="07"))
    # Pairs answering in 07: fi-1, fi-2, ca-1; resources ticked by fi-1 and ca-1.
    assert (rows["resources"].affirmative, rows["resources"].responses) == (2, 3)
    assert rows["resources"].percent_rounded == Decimal("66.7")


def test_breakdown_by_country_matches_restrictions(worked_example, barriers):
    rows = indicator_rows(wave=worked_example, question=barriers, by="country")
    resources = {row.group: row.percent for row in rows if row.item.code == "resources"}
    assert resources == {"CAN": 100.0, "FIN": 50.0}


def test_pairs_without_an_answer_to_the_question_are_not_counted(worked_example, barriers):
    # An answer to another question does not add a pair to the barriers denominator.
    answer(worked_example, "FIN", "fi-3", "09", "factors", {"leadership": True})
    rows = by_item(indicator_rows(wave=worked_example, question=barriers))
    assert rows["resources"].responses == 5


def test_no_answers_is_undefined_not_zero(barriers):
    rows = indicator_rows(wave=WaveFactory(code="EMPTY"), question=barriers)
    assert {row.item.code for row in rows} == {"resources", "resistance", "incentives", "evidence"}
    assert all(row.responses == 0 and row.percent is None for row in rows)
    assert all(row.percent_rounded is None for row in rows)


def test_reference_values_are_the_published_ones(barriers):
    rows = by_item(indicator_rows(wave=Wave.objects.get(code="OECD-2010"), question=barriers))
    assert rows["resources"].reference_percent == Decimal("42.0")
    assert rows["evidence"].reference_percent == Decimal("29.0")


def test_one_aggregate_query_whatever_the_records(
    worked_example, barriers, django_assert_num_queries
):
    with django_assert_num_queries(3):
        indicator_rows(wave=worked_example, question=barriers, by="sector")
