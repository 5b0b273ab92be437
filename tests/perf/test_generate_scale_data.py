import datetime
import itertools
import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from bench.scale_data import (
    Generator,
    Plan,
    Vocabulary,
    generated_models,
)
from initiatives import rules, services
from initiatives.models import (
    Initiative,
    Participation,
    ReferenceSequence,
    ReviewStatus,
    Stage,
    StageChange,
)
from survey.models import Country, Respondent, Response, Sector, Wave

pytestmark = pytest.mark.django_db

REFERENCE = re.compile(r"^COP-(\d{4})-(\d{4,})$")


@pytest.fixture
def generated(db):
    call_command("generate_scale_data", initiatives=120, responses=900, seed=5, stdout=None)


def test_it_makes_the_counts_asked_for(generated):
    assert Initiative.objects.count() == 120
    assert Response.objects.count() == 900
    assert Wave.objects.filter(synthetic=True).count() == 3
    assert Participation.objects.count() >= 120
    assert StageChange.objects.count() >= 120


def test_every_case_officer_may_follow_cases_so_a_case_can_be_edited(generated):
    assigned = Initiative.objects.exclude(case_officer=None)
    officers = set(assigned.values_list("case_officer", flat=True))
    assert officers
    assert officers <= set(rules.case_officers().values_list("pk", flat=True))
    assigned.first().full_clean()


def test_every_stage_and_review_status_is_present(generated):
    assert set(Initiative.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert set(Initiative.objects.values_list("review_status", flat=True)) == set(
        ReviewStatus.values
    )


def test_stage_histories_end_at_the_current_stage_in_date_order(generated):
    changes = {}
    for change in StageChange.objects.order_by("initiative", "changed_on", "pk"):
        changes.setdefault(change.initiative_id, []).append(change)
    for initiative in Initiative.objects.all():
        history = changes[initiative.pk]
        assert history[0].from_stage == ""
        assert history[-1].to_stage == initiative.stage
        for before, after in itertools.pairwise(history):
            assert after.from_stage == before.to_stage
            assert after.changed_on >= before.changed_on
        assert history[-1].changed_on <= datetime.date.today()


def test_tags_are_items_of_their_own_question(generated):
    for field, question in Initiative.TAG_QUESTIONS.items():
        through = getattr(Initiative, field).through
        wrong = through.objects.exclude(item__question__code=question)
        assert not wrong.exists(), field
    # Only barriers that were met can be addressed.
    for initiative in Initiative.objects.prefetch_related("barriers", "barriers_addressed"):
        assert set(initiative.barriers_addressed.all()) <= set(initiative.barriers.all())


def test_references_are_unique_and_later_creations_continue_them(generated, staff):
    references = list(Initiative.objects.values_list("reference", flat=True))
    assert len(set(references)) == len(references)
    last = Counter()
    for reference in references:
        year, number = REFERENCE.match(reference).groups()
        last[int(year)] = max(last[int(year)], int(number))
    assert dict(ReferenceSequence.objects.values_list("year", "last")) == dict(last)

    year = max(last)
    created = services.initiative_create(
        by=staff,
        title="After the bulk load",
        country=Country.objects.get(code="FIN"),
        sector=Sector.objects.get(code="07"),
        level="local",
        created_at=datetime.datetime(year, 12, 31, 12, tzinfo=datetime.UTC),
    )
    assert created.reference == f"COP-{year}-{last[year] + 1:04d}"


def test_survey_records_keep_one_answer_per_respondent_sector_and_item(generated):
    duplicates = (
        Response.objects.values("respondent", "sector", "item")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert not Respondent.objects.exclude(wave__synthetic=True).exists()


def test_the_same_seed_twice_on_one_database_is_refused(generated):
    with pytest.raises(CommandError, match="already generated"):
        call_command("generate_scale_data", initiatives=1, responses=10, seed=5, stdout=None)


def _rows(seed):
    plan = Plan(
        seed=seed,
        initiatives=30,
        responses=200,
        vocabulary=Vocabulary.load(),
        first_ids=dict.fromkeys(generated_models(), 1),
        sequences={},
        wave_ids=[1, 2],
    )
    generator = Generator(plan)
    chunks = [generator.people(), *generator.initiative_chunks(), *generator.survey_chunks()]
    return [{model._meta.db_table: rows for model, rows in chunk.items()} for chunk in chunks]


def test_generation_is_deterministic_for_a_seed(db):
    assert _rows(11) == _rows(11)
    assert _rows(11) != _rows(12)
