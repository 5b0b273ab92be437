"""Each report runs the same number of queries whatever the number of initiatives."""

import pytest

from .conftest import more_cases
from .helpers import count_queries

pytestmark = pytest.mark.django_db

URLS = [
    "/reports/maturity/",
    "/reports/maturity/?format=csv&table=time",
    "/reports/maturity/indicators/",
    "/reports/maturity/indicators/?format=csv&stage_on=2024-06-30",
    "/reports/countries/FIN/",
    "/reports/evidence/",
    "/reports/evidence/?format=csv&table=money",
    "/reports/readiness/",
]


def test_query_count_does_not_grow_with_the_data(client, staff, readiness_cases):
    client.force_login(staff)
    before = {url: count_queries(client, url) for url in URLS}
    more_cases(staff, 15)
    after = {url: count_queries(client, url) for url in URLS}
    assert after == before
    assert max(before.values()) <= 40
