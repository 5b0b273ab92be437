"""Public pages at cache speed: anonymous visitors get the cached page until the data
changes, signed-in users never do, and conditional GETs answer 304."""

import datetime

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import RequestFactory

from core.pagecache import PublicPageCacheMiddleware
from initiatives import services
from initiatives.models import Activity, ReviewStatus
from tests.factories import make_initiative

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "/",
    "/initiatives/?stage=pilot",
    "/fr/initiatives/",
    "/reports/maturity/",
    "/reports/maturity/?format=csv&table=stages",
    "/reports/indicators/",
    "/reports/indicators.csv?wave=OECD-2010&question=barriers",
    "/initiatives/codebook.csv",
]


@pytest.fixture
def published(db):
    return make_initiative(title="Night walks", review_status=ReviewStatus.PUBLISHED)


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_an_anonymous_page_is_served_again_without_a_query(
    client, published, url, django_assert_num_queries
):
    first = client.get(url)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = client.get(url)
    assert again.status_code == 200
    assert body(again) == body(first)
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == "public, no-cache"
    assert "Cookie" in again["Vary"]
    assert again["Content-Type"] == first["Content-Type"]
    assert not again.cookies


def test_the_case_page_is_cached_and_shows_a_change_at_the_next_request(
    client, published, staff, django_assert_num_queries
):
    url = f"/initiatives/{published.reference}/"
    assert "Night walks" in client.get(url).content.decode()
    with django_assert_num_queries(0):
        client.get(url)
    services.initiative_change_stage(
        initiative=published,
        to_stage="pilot",
        by=staff,
        reason="started",
        on=datetime.date.today(),
    )
    page = client.get(url).content.decode()
    assert "started" in page
    Activity.objects.create(initiative=published, date=datetime.date(2024, 7, 1), text="Met")
    assert "Met" in client.get(url).content.decode()


def test_a_change_shows_on_the_list_at_the_next_request(client, published):
    assert "Night walks" in client.get("/initiatives/").content.decode()
    published.title = "Morning walks"
    published.save()
    page = client.get("/initiatives/").content.decode()
    assert "Morning walks" in page
    assert "Night walks" not in page


def test_each_query_and_language_is_its_own_page(client, published):
    english = client.get("/initiatives/").content.decode()
    french = client.get("/fr/initiatives/").content.decode()
    assert english != french
    assert '<html lang="fr">' in french
    assert published.reference not in client.get("/initiatives/?stage=embedded").content.decode()
    assert published.reference in client.get("/initiatives/?stage=planned").content.decode()


def test_a_conditional_get_answers_304_without_a_body(client, published):
    first = client.get("/reports/maturity/")
    response = client.get("/reports/maturity/", headers={"if-none-match": first["ETag"]})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == first["ETag"]
    stale = client.get("/reports/maturity/", headers={"if-none-match": '"something-else"'})
    assert stale.status_code == 200


def test_a_signed_in_user_never_gets_nor_fills_the_cache(client, published, staff):
    draft = make_initiative(title="Staff-only draft")
    client.force_login(staff)
    signed_in = client.get("/initiatives/")
    assert draft.reference in signed_in.content.decode()
    assert "private" in signed_in["Cache-Control"]
    assert "ETag" not in signed_in
    client.logout()
    anonymous = client.get("/initiatives/").content.decode()
    assert draft.reference not in anonymous
    assert published.reference in anonymous
    client.force_login(staff)
    assert draft.reference in client.get("/initiatives/").content.decode()


def test_a_visitor_with_messages_waiting_is_not_served_from_the_cache(client, published):
    client.get("/initiatives/")
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    response = HttpResponse()
    storage.add(constants.SUCCESS, "Saved, well done")
    storage.update(response)
    client.cookies["messages"] = response.cookies["messages"].value
    page = client.get("/initiatives/").content.decode()
    assert "Saved, well done" in page


def test_a_response_that_sets_a_cookie_is_not_kept(rf, settings):
    calls = []

    def view(request):
        calls.append(request)
        response = HttpResponse("page")
        response.set_cookie("visitor", "1")
        return response

    middleware = PublicPageCacheMiddleware(view)
    for _ in range(2):
        request = rf.get("/initiatives/")
        response = middleware(request)
        assert response.cookies
        assert "ETag" not in response
    assert len(calls) == 2


def test_a_page_over_the_size_limit_is_served_but_not_kept(client, published, settings):
    settings.PAGE_CACHE_MAX_BYTES = 100
    first = client.get("/initiatives/codebook.csv")
    content = body(first)
    assert len(content) > 100
    assert "ETag" not in first
    again = client.get("/initiatives/codebook.csv")
    assert "ETag" not in again
    assert body(again) == content


def test_the_cache_is_off_with_the_report_cache(client, published, settings):
    settings.REPORT_CACHE_SECONDS = 0
    response = client.get("/initiatives/")
    assert "ETag" not in response
