"""One render per page and data generation: visitors who miss a page while another renders
it wait for that render instead of rendering the same page each (core/pagecache.py)."""

import threading

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from core import pagecache, reportcache
from core.pagecache import PublicPageCacheMiddleware

pytestmark = pytest.mark.django_db


class SlowView:
    """A page whose first render waits until the test lets it finish."""

    def __init__(self, *, cookie=False):
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.cookie = cookie
        self.lock = threading.Lock()

    def __call__(self, request):
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            self.started.set()
            assert self.release.wait(10)
        response = HttpResponse(f"render {self.calls}")
        if self.cookie:
            response.set_cookie("visitor", "1")
        return response


def visit(middleware, box, name):
    response = middleware(RequestFactory().get("/reports/maturity/"))
    box[name] = response.content


def test_visitors_who_miss_a_page_being_rendered_wait_for_that_render():
    view = SlowView()
    middleware = PublicPageCacheMiddleware(view)
    box = {}
    first = threading.Thread(target=visit, args=(middleware, box, "first"))
    first.start()
    assert view.started.wait(10)
    others = [threading.Thread(target=visit, args=(middleware, box, n)) for n in range(3)]
    for thread in others:
        thread.start()
    view.release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert view.calls == 1
    assert {box[name] for name in ("first", 0, 1, 2)} == {b"render 1"}


def test_a_render_that_keeps_nothing_lets_the_waiting_visitors_render_at_once(monkeypatch):
    monkeypatch.setattr(pagecache, "FILL_WAIT_SECONDS", 30.0)
    view = SlowView(cookie=True)  # a response that sets a cookie is never kept
    middleware = PublicPageCacheMiddleware(view)
    box = {}
    first = threading.Thread(target=visit, args=(middleware, box, "first"))
    first.start()
    assert view.started.wait(10)
    second = threading.Thread(target=visit, args=(middleware, box, "second"))
    second.start()
    view.release.set()
    first.join(10)
    second.join(5)  # far less than the 30 s it would wait for an entry that never comes
    assert not second.is_alive()
    assert view.calls == 2
    assert box["second"] == b"render 2"


def test_a_change_of_the_data_starts_a_new_render(django_capture_on_commit_callbacks):
    calls = []

    def view(request):
        calls.append(request)
        return HttpResponse(f"render {len(calls)}")

    middleware = PublicPageCacheMiddleware(view)
    assert middleware(RequestFactory().get("/reports/maturity/")).content == b"render 1"
    assert middleware(RequestFactory().get("/reports/maturity/")).content == b"render 1"
    reportcache.data_changed()
    assert middleware(RequestFactory().get("/reports/maturity/")).content == b"render 2"
