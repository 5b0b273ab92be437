"""The public page cache and pages that carry a form token (CSRF): a token is one visitor's,
so a page that embeds one is never kept for the next visitor, whose form would then fail.
And the cache can be turned off on its own (PAGE_CACHE_ENABLED), leaving the reports'."""

import re

import pytest
from django.http import HttpResponse
from django.template import engines
from django.test import Client
from django.urls import include, path

from core import reportcache
from initiatives.models import ReviewStatus
from tests.factories import make_initiative

pytestmark = pytest.mark.django_db
with_a_form = pytest.mark.urls(__name__)

FORM = engines["django"].from_string(
    '<form method="post" action="/send/">{% csrf_token %}<button>Send</button></form>'
)


def list_with_a_form(request):
    return HttpResponse(FORM.render({}, request))


def codebook(request):
    return HttpResponse("the same for everyone")


def send(request):
    return HttpResponse("sent")


# A public list that embeds a form (as a filter form with POST, or a language switch as a
# form, would), under the name of a page the cache serves.
urlpatterns = [
    path(
        "",
        include(
            (
                [
                    path("initiatives/", list_with_a_form, name="list"),
                    path("initiatives/codebook.csv", codebook, name="codebook"),
                ],
                "initiatives",
            )
        ),
    ),
    path("send/", send, name="send"),
]


def token_in(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


@with_a_form
def test_a_page_with_a_form_token_is_never_kept_for_another_visitor():
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page = first.get("/initiatives/")
    assert "csrftoken" in page.cookies
    assert "ETag" not in page
    assert "public" not in page.get("Cache-Control", "")
    other = second.get("/initiatives/")
    assert "csrftoken" in other.cookies
    assert other.cookies["csrftoken"].value != page.cookies["csrftoken"].value
    # Each visitor's form works with its own token, and the first visitor's token is not
    # the second's: had the page been kept, the second would have posted the first's.
    assert second.post("/send/", {"csrfmiddlewaretoken": token_in(other)}).status_code == 200
    assert first.post("/send/", {"csrfmiddlewaretoken": token_in(page)}).status_code == 200
    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/initiatives/codebook.csv")
    assert stranger.post("/send/", {"csrfmiddlewaretoken": token_in(page)}).status_code == 403


@with_a_form
def test_a_visitor_who_already_has_a_token_cookie_gets_a_form_that_works():
    visitor = Client(enforce_csrf_checks=True)
    visitor.get("/initiatives/")
    again = visitor.get("/initiatives/")
    assert "ETag" not in again
    assert visitor.post("/send/", {"csrfmiddlewaretoken": token_in(again)}).status_code == 200


@with_a_form
def test_a_page_without_a_form_is_kept_even_for_a_visitor_with_a_token_cookie():
    visitor = Client()
    visitor.get("/initiatives/")  # now holds a csrftoken cookie, not a session
    assert "csrftoken" in visitor.cookies
    first = visitor.get("/initiatives/codebook.csv")
    assert "ETag" in first
    assert first["Cache-Control"] == "public, no-cache"
    assert visitor.get("/initiatives/codebook.csv")["ETag"] == first["ETag"]


@with_a_form
def test_the_page_cache_can_be_turned_off_without_the_report_cache(settings):
    settings.PAGE_CACHE_ENABLED = False
    response = Client().get("/initiatives/codebook.csv")
    assert response.status_code == 200
    assert "ETag" not in response
    assert reportcache.enabled()
    assert reportcache.cached(["a report"], lambda: 1) == 1
    assert reportcache.cached(["a report"], lambda: 2) == 1


def test_the_public_pages_carry_no_form_token_for_an_anonymous_visitor():
    # So the cache keeps them; a form token on one of them would make it uncacheable.
    initiative = make_initiative(title="Night walks", review_status=ReviewStatus.PUBLISHED)
    for url in (
        "/",
        "/initiatives/",
        f"/initiatives/{initiative.reference}/",
        "/reports/maturity/",
    ):
        response = Client().get(url)
        assert response.status_code == 200
        assert b"csrfmiddlewaretoken" not in response.content
        assert "ETag" in response
