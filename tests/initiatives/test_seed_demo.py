"""`manage.py seed_demo`: the demo data and logins `make run` loads.

Seeding takes a while (it goes through the services, with their history), so one test
loads it once, checks it, and loads it again to check that nothing changes.
"""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from initiatives import roles
from initiatives.models import (
    Initiative,
    Membership,
    Organisation,
    ReviewStatus,
    Stage,
    StageChange,
)
from survey.models import ReferenceValue, Respondent, Response, Wave

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo(settings):
    settings.DEBUG = True


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot():
    """Every row count, and every initiative's version and timestamps."""
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in ("auth", "initiatives", "survey")
    }
    state = sorted(Initiative.objects.values_list("reference", "version", "updated_at"))
    return counts, state


def assert_initiatives_cover_the_domain():
    initiatives = Initiative.objects.all()
    assert initiatives.count() >= 40
    countries = set(initiatives.values_list("country_id", flat=True))
    assert len(countries) >= 8
    assert {"CAN", "NOR", "USA", "FIN", "GBR"} <= countries
    assert len(set(initiatives.values_list("sector_id", flat=True))) >= 6
    assert set(initiatives.values_list("stage", flat=True)) == set(Stage.values)
    assert set(initiatives.values_list("review_status", flat=True)) == set(ReviewStatus.values)
    for initiative in initiatives.prefetch_related("stage_changes"):
        assert initiative.participations.exists(), initiative
        assert initiative.objectives.exists(), initiative
        assert initiative.activities.exclude(kind__in=["stage", "review"]).exists(), initiative
        assert list(initiative.stage_changes.all())[-1].to_stage == initiative.stage
    assert initiatives.filter(accountability__isnull=False, budget__isnull=False).count() >= 40
    assert initiatives.filter(barriers__isnull=False, factors__isnull=False).exists()
    years = {day.year for day in StageChange.objects.values_list("changed_on", flat=True)}
    assert len(years) >= 4
    embedded_later = StageChange.objects.filter(from_stage="pilot", to_stage="embedded")
    assert embedded_later.count() >= 10  # pilots that became part of regular delivery


def assert_survey_is_synthetic_and_complete():
    wave = Wave.objects.get(code="DEMO")
    assert wave.synthetic
    assert "synthetic" in wave.title.lower()
    assert Respondent.objects.filter(wave=wave).values("country").distinct().count() >= 8
    answered = Response.objects.filter(respondent__wave=wave)
    questions = set(answered.values_list("item__question__code", flat=True))
    assert questions == {"reasons", "barriers", "factors"}
    assert answered.values("sector").distinct().count() >= 6
    # The OECD's published values stand beside the synthetic ones in the reports.
    published = ReferenceValue.objects.filter(wave__code="OECD-2010")
    assert published.exists()
    assert set(wave.reference_values.values_list("item", "percent")) == set(
        published.values_list("item", "percent")
    )


STAFF_LOGINS = {
    "staff": roles.ADMINISTRATOR,
    "officer": roles.CASE_OFFICER,
    "surveys": roles.SURVEY_MANAGER,
    "analyst": roles.ANALYST,
}


def assert_logins_work(printed):
    users = get_user_model().objects
    for username, role in STAFF_LOGINS.items():
        assert f"{username} / {username}-demo  — staff role: {role}" in printed
        person = users.get(username=username)
        assert person.check_password(f"{username}-demo")
        assert person.is_staff
        assert not person.is_superuser  # the role is what they may do
        assert list(person.groups.values_list("name", flat=True)) == [role]
    assert "member / member-demo" in printed
    member = users.get(username="member")
    assert member.check_password("member-demo")
    assert not member.is_staff
    membership = member.memberships.get()
    assert (membership.role, membership.status) == ("admin", "active")
    assert membership.organisation.kind == "citizens_group"
    assert membership.organisation.initiatives.exists()
    others = users.exclude(username__in=[*STAFF_LOGINS, "member"])
    assert not any(user.has_usable_password() for user in others)
    assert Organisation.objects.filter(verified=True).exists()
    assert Organisation.objects.filter(verified=False).exists()
    assert Membership.objects.active().count() >= Organisation.objects.count()


def assert_it_varies_as_real_data_does():
    """No aspect is all-or-nothing by stage: the reports' comparisons have something to show."""
    for stage in (Stage.EMBEDDED, Stage.PILOT):
        of_stage = Initiative.objects.filter(stage=stage)
        total = of_stage.count()
        for label, with_it in (
            ("clear frameworks", of_stage.filter(factors__code="frameworks").count()),
            ("roles written", of_stage.filter(accountability__roles_written=True).count()),
            ("funded beyond", of_stage.filter(budget__funded_beyond_pilot=True).count()),
        ):
            assert 0 < with_it < total, (stage, label, with_it, total)
    for initiative in Initiative.objects.exclude(description=""):
        assert not initiative.description.startswith(initiative.summary), initiative


def test_seed_demo_loads_the_demo_once_and_prints_the_logins():
    printed = seed()
    assert_initiatives_cover_the_domain()
    assert_it_varies_as_real_data_does()
    assert_survey_is_synthetic_and_complete()
    assert_logins_work(printed)

    before = snapshot()
    printed = seed()
    assert snapshot() == before
    assert "nothing changed" in printed
    assert "staff / staff-demo" in printed


def test_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        seed()
    assert not get_user_model().objects.filter(username="staff").exists()
    assert not Initiative.objects.exists()


def test_refusal_exits_non_zero_with_a_message(tmp_path):
    database = tmp_path / "never-created.sqlite3"
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": f"sqlite:///{database}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "only runs with DEBUG on" in result.stderr
    assert not database.exists()
