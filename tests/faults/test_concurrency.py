"""Concurrent writers on PostgreSQL, each thread on its own connection: references stay
unique, stage history stays consistent, and a racing edit is refused, never lost."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from initiatives import services
from initiatives.models import Initiative, StageChange
from tests.factories import make_initiative
from tests.parallel import run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _postgresql_only(postgresql_only):
    pass


def test_twenty_parallel_creations_get_twenty_distinct_references():
    def create(n):
        return lambda: make_initiative(title=f"Parallel {n}").reference

    outcomes = run_in_parallel(*(create(n) for n in range(20)))
    assert [kind for kind, _ in outcomes] == ["ok"] * 20, outcomes
    references = [reference for _, reference in outcomes]
    assert len(set(references)) == 20
    numbers = sorted(int(reference.rsplit("-", 1)[1]) for reference in references)
    assert numbers == list(range(numbers[0], numbers[0] + 20))  # no gap, none twice
    assert Initiative.objects.count() == 20


def test_two_parallel_moves_to_the_same_stage_record_it_once():
    initiative = make_initiative()

    def move():
        return services.initiative_change_stage(
            initiative=initiative, to_stage="pilot", by=None, reason="started"
        )

    outcomes = run_in_parallel(move, move)
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"]
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, ValidationError)
    initiative.refresh_from_db()
    assert initiative.stage == "pilot"
    assert list(initiative.stage_changes.values_list("from_stage", "to_stage")) == [
        ("", "planned"),
        ("planned", "pilot"),
    ]


def test_two_parallel_moves_to_different_stages_leave_a_consistent_history():
    initiative = make_initiative()

    def move(to_stage):
        return lambda: services.initiative_change_stage(
            initiative=initiative, to_stage=to_stage, by=None, reason="racing"
        )

    outcomes = run_in_parallel(move("pilot"), move("embedded"))
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    initiative.refresh_from_db()
    chain = list(
        StageChange.objects.filter(initiative=initiative)
        .order_by("changed_at", "pk")
        .values_list("from_stage", "to_stage")
    )
    assert len(chain) == 3
    for (_, previous_to), (next_from, _) in itertools.pairwise(chain):
        assert next_from == previous_to  # each move starts where the last one ended
    assert chain[-1][1] == initiative.stage
    assert initiative.version == 1 + 2
    assert initiative.history.count() == 1 + 2


def test_two_parallel_edits_of_the_same_version_one_wins_one_is_told():
    initiative = make_initiative(title="Original")
    version = initiative.version

    def edit(title):
        def call():
            # Each editor loaded the record before either saved.
            mine = Initiative.objects.get(pk=initiative.pk)
            return services.initiative_update(
                initiative=mine, by=None, expected_version=version, fields={"title": title}
            ).title

        return call

    outcomes = run_in_parallel(edit("Edited by A"), edit("Edited by B"))
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    winner = next(value for kind, value in outcomes if kind == "ok")
    loser = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(loser, services.StaleEdit)
    assert loser.current_version == version + 1
    initiative.refresh_from_db()
    assert initiative.title == winner  # the loser did not overwrite it
    assert initiative.version == version + 1
    titles = list(initiative.history.order_by("history_date").values_list("title", flat=True))
    assert titles == ["Original", winner]
