"""The report filters' country menu: the countries with a published initiative or a survey
respondent, found without one subquery per country."""

import pytest
from django.utils import timezone

from initiatives.models import Initiative, ReviewStatus
from initiatives.report_views import countries_with_data
from survey.models import Country, Respondent
from tests.factories import WaveFactory, make_initiative

pytestmark = pytest.mark.django_db


def test_the_menu_lists_countries_with_a_published_initiative_or_a_respondent():
    make_initiative(country=Country.objects.get(code="FIN"), review_status=ReviewStatus.PUBLISHED)
    make_initiative(country=Country.objects.get(code="DEU"), review_status=ReviewStatus.DRAFT)
    archived = make_initiative(
        country=Country.objects.get(code="ITA"), review_status=ReviewStatus.PUBLISHED
    )
    Initiative.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    Respondent.objects.create(wave=WaveFactory(), country_id="JPN", code="R1")
    assert set(countries_with_data().values_list("code", flat=True)) == {"FIN", "JPN"}


def test_the_menu_is_not_searched_country_by_country():
    # Two EXISTS joined by OR, each correlated with the country, made PostgreSQL scan the
    # whole initiatives table once for every country without one: 52 s at national scale.
    sql = str(countries_with_data().query)
    assert '= ("survey_country"."code")' not in sql
    assert "EXISTS" not in sql
