"""No N+1 anywhere: every list, export and report costs the same queries at two sizes.

Each page is requested on a small data set (fewer rows than a page holds), then again after
the data has grown sevenfold, and the two query counts must be equal. A second check
catches what equal counts could hide: the same statement sent again and again with only its
literals changed, which is what a query per row looks like.
"""

import re
from collections import Counter
from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve, reverse

from initiatives.models import Initiative, ReviewStatus
from survey.models import Respondent, Wave

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _computed_every_time(settings):
    # These tests count the queries that compute each page; a report served from the
    # report cache (tests/reports/test_report_cache.py) would hide them.
    settings.REPORT_CACHE_SECONDS = 0


# Statements that differ only in their literals. A report may loop over the vocabulary (three
# questions, two sides); more repeats than this is a loop over records.
MAX_REPEATS = 10

PUBLIC = [
    "/initiatives/",
    "/initiatives/?stage=pilot&stage=embedded&ordering=title",
    "/initiatives/?objective=involvement",
    "/initiatives/?phase=design&partner_type=professional",
    "/initiatives/?per_page=100",
    "/initiatives/export.csv",
    "/initiatives/{reference}/",
    "/api/initiatives/",
    "/api/initiatives/?stage=pilot&page_size=100",
    "/api/initiatives/{reference}/",
    "/api/organisations/",
    "/reports/indicators/?wave={wave}&question=barriers",
    "/reports/indicators/?wave={wave}&question=barriers&by=country",
    "/reports/indicators/?wave={wave}&question=reasons&by=sector",
    "/reports/indicators.csv?wave={wave}&question=barriers&by=country",
    "/reports/maturity/",
    "/reports/maturity/indicators/?wave={wave}&question=factors",
    "/reports/countries/FIN/",
    "/reports/evidence/",
    "/api/survey/indicators/?wave={wave}&question=barriers",
]
STAFF = [
    "/reports/readiness/",
    "/api/survey/responses/",
    "/api/initiatives/?review_status=draft",
    "/admin/survey/response/export/",
    "/admin/initiatives/initiative/?stage__exact=pilot&country__code__exact=FIN",
    "/admin/initiatives/initiative/?q=group",
]


def _generate(seed, initiatives, responses):
    call_command(
        "generate_scale_data",
        initiatives=initiatives,
        responses=responses,
        seed=seed,
        waves=1,
        stdout=StringIO(),
    )


def _normalised(sql):
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\d+", "?", sql)  # numbers, and the savepoint names of atomic requests
    return re.sub(r"\((\?, )+\?\)", "(?)", sql)


def _measure(client, url, problems):
    """The statements a request sends, counted by their shape."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    if response.status_code != 200:
        problems[url] = f"HTTP {response.status_code}"
    shapes = Counter(_normalised(query["sql"]) for query in captured.captured_queries)
    for sql, count in shapes.items():
        if count > MAX_REPEATS:
            problems[url] = f"repeats a query {count}x: {sql[:240]}"
    return shapes


def _existing(urls):
    found = []
    for url in urls:
        try:
            resolve(url.split("?")[0].format(reference="COP-2020-0001", wave="W"))
        except Resolver404:
            continue  # not built (yet) in this checkout
        found.append(url)
    return found


def _compare(client, urls):
    """Query counts of each URL at a small size, then after the data grew."""
    _generate(seed=1, initiatives=15, responses=120)
    wave = Wave.objects.get(code="SYN1-2010")
    reference = (
        Initiative.objects.published().order_by("pk").values_list("reference", flat=True).first()
    )
    if reference is None:  # a small seed may publish nothing: make one visible
        first = Initiative.objects.order_by("pk").first()
        Initiative.objects.filter(pk=first.pk).update(review_status=ReviewStatus.PUBLISHED)
        reference = first.reference
    urls = [u.format(reference=reference, wave=wave.code) for u in _existing(urls)]
    problems = {}
    for url in urls:
        _measure(client, url, problems)  # warm the caches (content types, translations)
    small = {url: _measure(client, url, problems) for url in urls}

    _generate(seed=2, initiatives=90, responses=900)
    Respondent.objects.filter(wave__code="SYN2-2010").update(wave=wave)
    large = {url: _measure(client, url, problems) for url in urls}
    for url in urls:
        # The same number with a different shape is fine: the admin, for one, drops its
        # LIMIT when every row fits on the page.
        grown = large[url] - small[url]
        if small[url].total() != large[url].total():
            problems.setdefault(
                url,
                f"{small[url].total()} queries, then {large[url].total()} with more data; "
                f"more of: {list(grown.items())[:1]}",
            )
    assert not problems, "\n".join(f"{url}: {problem}" for url, problem in problems.items())
    return urls


def test_public_pages_api_and_reports_cost_the_same_queries_at_two_sizes(client):
    assert _compare(client, PUBLIC)


def test_staff_pages_cost_the_same_queries_at_two_sizes(client, staff):
    client.force_login(staff)
    assert _compare(client, STAFF)


def test_every_admin_changelist_costs_the_same_queries_at_two_sizes(client, staff):
    client.force_login(staff)
    urls = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    assert _compare(client, urls)
