"""Public pages at cache speed: anonymous GETs served from the report cache.

The public list, the case pages, the reports and their CSV files are the same for every
anonymous visitor until the data changes, and coprod knows when it changes: the data
generation of `core/reportcache.py`. So a page rendered for an anonymous visitor is
kept under a key made of its path, its query, its language and that generation, and the
next anonymous visitor gets the same bytes without a query. A change of the data makes
every key new, so no visitor ever sees a page older than the last committed change.

Never cached:
- a request that may come from a signed-in user (it carries a session cookie), that has
  messages waiting (a messages cookie), or that authenticates with a header;
- a response that is not a 200, sets a cookie, says `private` or `no-store`, has messages
  queued, or is larger than PAGE_CACHE_MAX_BYTES.

One render per page and data generation: the first visitor who misses renders the page,
and those who miss it meanwhile wait for that render's entry (up to FILL_WAIT_SECONDS)
rather than each render the same page. Without this, each change of the data sent every
concurrent visitor of a costly report into the same computation at once, and under a steady
trickle of writes the report never got into the cache at all. The entry they wait for is
still one of the current generation, so it shows every change committed before it.

Headers: `Vary: Cookie` (a signed-in user gets another page from the same URL),
`Cache-Control: public, no-cache` (anyone may keep it, but must ask again before each use)
and an `ETag`; a conditional GET whose `If-None-Match` names it gets a 304 without a body.
The same views, answered to a signed-in user, say `Cache-Control: private`.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language

from . import reportcache
from .metrics import PAGE_CACHE, timed_cache

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache

# (ETag, kept headers, body, whether the view streamed it)
Entry = tuple[str, dict[str, str], bytes, bool]

# URL names of the pages that are public and the same for every anonymous visitor.
CACHED_VIEWS = frozenset(
    {
        "initiatives:home",
        "initiatives:list",
        "initiatives:detail",
        "initiatives:codebook",
        "reports:maturity",
        "reports:maturity_indicators",
        "reports:country",
        "reports:evidence",
        "survey:indicators",
        "survey:indicators_csv",
    }
)

# Response headers worth keeping with the page (the others are added on every answer by
# the middlewares around this one: security headers, language, session).
_KEPT_HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "Content-Language",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
)
_MESSAGES_COOKIE = "messages"
# How long a visitor waits for another's render of the same page before rendering it too,
# and how often it looks for the entry meanwhile.
FILL_WAIT_SECONDS = 10.0
FILL_POLL_SECONDS = 0.02


def _view_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None


def _anonymous_request(request: HttpRequest) -> bool:
    """Whether the request cannot be from a signed-in user nor carry messages."""
    cookies = request.COOKIES
    return (
        settings.SESSION_COOKIE_NAME not in cookies
        and _MESSAGES_COOKIE not in cookies
        and "HTTP_AUTHORIZATION" not in request.META
    )


def _etag(content: bytes) -> str:
    return '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'


def _public_headers(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    response["ETag"] = etag
    patch_vary_headers(response, ("Cookie",))
    response["Cache-Control"] = "public, no-cache"
    return response


def _entry_of_another_render(cache: BaseCache, key: str) -> Entry | None:
    """The entry that another request is rendering for `key`, once it is there; None when
    that render ended without keeping one (or took too long): then render it here."""
    marker = key + ":filling"
    deadline = time.monotonic() + FILL_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(FILL_POLL_SECONDS)
        found = cache.get_many([key, marker])
        if key in found:
            entry: Entry = found[key]
            return entry
        if marker not in found:
            return None
    return None


def _not_modified(request: HttpRequest, etag: str) -> bool:
    wanted = request.META.get("HTTP_IF_NONE_MATCH")
    if not wanted:
        return False
    return etag in parse_etags(wanted) or wanted.strip() == "*"


class PublicPageCacheMiddleware:
    """Serve the public pages to anonymous visitors from the cache (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method != "GET" or not settings.PAGE_CACHE_ENABLED or not reportcache.enabled():
            return self.get_response(request)
        view_name = _view_name(request)
        if view_name not in CACHED_VIEWS:
            return self.get_response(request)
        if not _anonymous_request(request):
            PAGE_CACHE.labels("bypass").inc()
            return self._private(self.get_response(request))
        key = reportcache.key("pages", [request.path, sorted(request.GET.lists()), get_language()])
        cache = reportcache.store()
        with timed_cache("page_get"):
            entry = cache.get(key)
        filling = False
        if entry is None:
            filling = cache.add(key + ":filling", True, FILL_WAIT_SECONDS)
            if not filling:
                entry = _entry_of_another_render(cache, key)
        PAGE_CACHE.labels("miss" if entry is None else "hit").inc()
        if entry is not None:
            etag, headers, content, streamed = entry
            response: HttpResponseBase
            if _not_modified(request, etag):
                response = HttpResponseNotModified()
            elif streamed:  # a download stays a download, as its view made it
                response = StreamingHttpResponse([content], headers=headers)
            else:
                response = HttpResponse(content, headers=headers)
            return _public_headers(response, etag)
        try:
            return self._render_and_keep(request, cache, key)
        finally:
            if filling:
                cache.delete(key + ":filling")

    def _render_and_keep(
        self, request: HttpRequest, cache: BaseCache, key: str
    ) -> HttpResponseBase:
        response = self.get_response(request)
        if not self._storable(request, response):
            if getattr(getattr(request, "user", None), "is_authenticated", False):
                return self._private(response)
            return response
        streamed = response.streaming
        response, content = self._complete(response)
        if content is None:  # larger than PAGE_CACHE_MAX_BYTES: served as it comes
            return response
        etag = _etag(content)
        headers = {name: response[name] for name in _KEPT_HEADERS if name in response}
        entry: Entry = (etag, headers, content, streamed)
        with timed_cache("page_set"):
            cache.set(key, entry, settings.REPORT_CACHE_SECONDS)
        if _not_modified(request, etag):
            return _public_headers(HttpResponseNotModified(), etag)
        return _public_headers(response, etag)

    @staticmethod
    def _private(response: HttpResponseBase) -> HttpResponseBase:
        if response.status_code == 200:
            patch_cache_control(response, private=True)
        return response

    @staticmethod
    def _storable(request: HttpRequest, response: HttpResponseBase) -> bool:
        if response.status_code != 200 or response.cookies:
            return False
        if getattr(getattr(request, "user", None), "is_authenticated", False):
            return False
        control = response.get("Cache-Control", "")
        if "private" in control or "no-store" in control:
            return False
        messages = getattr(request, "_messages", None)
        return not getattr(messages, "_queued_messages", None)

    @staticmethod
    def _complete(response: HttpResponseBase) -> tuple[HttpResponseBase, bytes | None]:
        """(response, its body), with the body None when it is over PAGE_CACHE_MAX_BYTES.
        A streaming response is read whole first; a too big one goes on streaming."""
        limit = settings.PAGE_CACHE_MAX_BYTES
        if isinstance(response, HttpResponse):
            content = response.content
            return response, (content if len(content) <= limit else None)
        if not isinstance(response, StreamingHttpResponse):
            return response, None  # neither kind of response Django makes: no body to read
        rest = response.streaming_content
        if not isinstance(rest, Iterator):  # an asynchronous body: served as it comes
            return response, None
        chunks: list[bytes] = []
        size = 0
        for chunk in rest:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                response.streaming_content = itertools.chain(chunks, rest)
                return response, None
        content = b"".join(chunks)
        whole = StreamingHttpResponse([content], status=response.status_code)
        for name, value in response.items():
            whole[name] = value
        # Not response.close(): that would signal the end of the request (and close the
        # database connection) while the request is still being answered. Its body, the
        # only thing it held, is read to the end.
        return whole, content
