"""A synthetic wave's figures are labelled as such where they appear, and the OECD's
published values stand beside them."""

import datetime
from decimal import Decimal

import pytest

from initiatives import services
from initiatives.models import ReviewStatus
from survey.models import Country, Item, ReferenceValue
from tests.factories import WaveFactory, answer, make_initiative

pytestmark = pytest.mark.django_db

NOTICE = "Synthetic figures, not OECD data."


@pytest.fixture
def frameworks():
    return Item.objects.get(question__code="factors", code="frameworks")


def _wave(synthetic, frameworks):
    wave = WaveFactory(code="DEMO" if synthetic else "REAL", synthetic=synthetic, year=2030)
    ReferenceValue.objects.create(wave=wave, item=frameworks, percent=Decimal("73.0"))
    answer(wave, "FIN", "R1", "03", "factors", {"frameworks": True, "leadership": False})
    answer(wave, "FIN", "R2", "03", "factors", {"frameworks": False, "leadership": True})
    initiative = make_initiative(
        stage="pilot", stage_date=datetime.date(2023, 1, 1), review_status=ReviewStatus.PUBLISHED
    )
    services.initiative_change_stage(
        initiative=initiative,
        to_stage="embedded",
        by=None,
        reason="moved",
        on=datetime.date(2024, 1, 1),
    )
    initiative.factors.add(frameworks)
    make_initiative(stage="pilot", review_status=ReviewStatus.PUBLISHED)
    return wave


@pytest.mark.parametrize(
    "path",
    [
        "/reports/maturity/indicators/?wave=DEMO&question=factors",
        "/reports/countries/FIN/?wave=DEMO",
        "/reports/indicators/?wave=DEMO&question=factors",
    ],
)
def test_synthetic_figures_say_so_beside_the_published_value(client, frameworks, path):
    _wave(True, frameworks)
    page = client.get(path).content.decode()
    assert NOTICE in page
    assert "73.0%" in page or "73%" in page  # the OECD's published value


def test_sentences_name_synthetic_respondents(client, frameworks):
    _wave(True, frameworks)
    page = client.get("/reports/maturity/indicators/?wave=DEMO&question=factors").content.decode()
    assert "50% of synthetic survey respondents call it critical (demonstration data)" in page
    assert "(OECD published: 73%)" in page
    assert "Survey (synthetic)" in page


def test_synthetic_notice_is_french_under_fr(client, frameworks):
    _wave(True, frameworks)
    page = client.get("/fr/reports/countries/FIN/?wave=DEMO").content.decode()
    assert NOTICE not in page
    assert "Chiffres synthétiques" in page


def test_a_real_wave_has_no_notice(client, frameworks):
    _wave(False, frameworks)
    page = client.get("/reports/maturity/indicators/?wave=REAL&question=factors").content.decode()
    assert NOTICE not in page
    assert "50% of survey respondents call it critical (OECD published: 73%)" in page
    assert Country.objects.filter(code="FIN").exists()
