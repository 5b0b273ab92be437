"""Request handling that concerns faults and security rather than any one page.

- `ClientAddressMiddleware` puts the real client address in REMOTE_ADDR behind a
  known number of trusted proxies, so that lockouts, rate limits, throttles and the
  audit log all see the same address and a client cannot choose its own.
- `SecurityHeadersMiddleware` adds the headers that Django and django-csp do not.
- `AuditMiddleware` records refused requests (403) and CSV downloads by staff in the
  security log.
- `RateLimitMiddleware` answers a rate-limited request with 429 and a clear page.
- `ApiTokenUseMiddleware` does the API token's bookkeeping after the response, outside
  the request's transaction: `last_used_at`, and the event for a throttled client.
- `server_error` is the 500 handler: when the database is unreachable it answers
  503 with a page that says so and asks the client to retry, instead of a 500. A clash
  with another request (a deadlock, a serialisation failure) is not an outage: it answers
  409 with a page that asks to try again.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template import loader

from core import security
from core.dberrors import concurrent_conflict, database_unavailable

if TYPE_CHECKING:
    from datetime import datetime

    from core.api.auth import Token

#: What a middleware wraps: the rest of the chain, down to the view.
GetResponse = Callable[[HttpRequest], HttpResponseBase]

logger = logging.getLogger("coprod.faults")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the rest of coprod should see it (see the middleware)."""
    return request.META.get("REMOTE_ADDR") or None


class ClientAddressMiddleware:
    """Take the client address from X-Forwarded-For, counting only trusted proxies.

    With TRUSTED_PROXY_COUNT = n, the n-th address from the right of X-Forwarded-For
    is the one our own outermost proxy saw; anything left of it was written by the
    client and is ignored. With 0 (the default), the header is ignored entirely.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.count: int = getattr(settings, "TRUSTED_PROXY_COUNT", 0)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if self.count:
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
            hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
            if len(hops) >= self.count:
                request.META["REMOTE_ADDR"] = hops[-self.count]
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers that neither Django's SecurityMiddleware nor django-csp set."""

    HEADERS = {
        # No page of coprod needs these browser features.
        "Permissions-Policy": (
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
            "interest-cohort=(), browsing-topics=()"
        ),
        # Other sites may not embed coprod's responses (documents, exports) as resources.
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Permitted-Cross-Domain-Policies": "none",
    }

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        for name, value in self.HEADERS.items():
            response.headers.setdefault(name, value)
        # drf-spectacular's Swagger page relaxes this to "unsafe-none" for OAuth2 pop-ups,
        # which coprod does not use; keep the site-wide isolation on every page.
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            response.headers["Cross-Origin-Opener-Policy"] = (
                settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
            )
        return response


class AuditMiddleware:
    """Record every refused request (403, CSRF failures included) in the security log.

    It runs outside the view's transaction, so the entry is kept even though the
    view's own work is rolled back when it raises PermissionDenied.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        self._record_staff_export(request, response)
        if response.status_code == 403:
            user = getattr(request, "user", None)
            security.report(
                security.PERMISSION_DENIED,
                request=request,
                user=user if user is not None and user.is_authenticated else None,
                detail=f"{request.method} {request.get_full_path()}"[:1000],
            )
        return response

    @staticmethod
    def _record_staff_export(request: HttpRequest, response: HttpResponseBase) -> None:
        """A CSV download by staff is a data export, wherever it is served from; views
        that already recorded it (with more detail) mark the request."""
        if response.status_code != 200 or getattr(request, "coprod_export_recorded", False):
            return
        if not response.get("Content-Type", "").startswith("text/csv"):
            return
        if not response.get("Content-Disposition", "").startswith("attachment"):
            return
        user = getattr(request, "user", None)
        if user is None or not user.is_staff:
            return
        security.report(
            security.DATA_EXPORT, request=request, detail=request.get_full_path()[:1000]
        )


class RateLimitMiddleware:
    """Rate limits on the forms that cost us (or others) something when abused.

    settings.RATELIMITS maps a URL name to a rate such as "10/h"; POSTs to that view
    are counted per signed-in user, or per client address for anonymous visitors, in
    the shared cache (django-ratelimit). Past the rate the answer is a 429 page that
    says to wait. A view decorated with django-ratelimit's own decorator gets the same
    page instead of the 403 its refusal would otherwise show as.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if request.method != "POST" or request.resolver_match is None:
            return None
        name = request.resolver_match.view_name
        rate = getattr(settings, "RATELIMITS", {}).get(name)
        if rate is None:
            return None
        from django_ratelimit.core import is_ratelimited

        limited = is_ratelimited(
            request, group=name, key="user_or_ip", rate=rate, method="POST", increment=True
        )
        return self._refuse(request) if limited else None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django_ratelimit.exceptions import Ratelimited

        return self._refuse(request) if isinstance(exception, Ratelimited) else None

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        security.report(
            security.RATE_LIMITED, request=request, detail=f"{request.method} {request.path}"
        )
        body = loader.get_template("429.html").render(request=request)
        response = HttpResponse(body, status=429)
        response["Retry-After"] = "600"
        return response


def database_unavailable_response() -> HttpResponse:
    """The 503 page, rendered without touching the database (no user, no session)."""
    body = loader.get_template("503.html").render()
    response = HttpResponse(body, status=503)
    # A short hint for clients and load balancers; the database is usually back soon.
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """The 500 handler: a database outage becomes a 503, a clash with another request a
    409 that asks to try again, anything else a plain 500 page."""
    error = sys.exc_info()[1]
    if error is not None and database_unavailable(error):
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, error)
        return database_unavailable_response()
    if error is not None and concurrent_conflict(error):
        # Already logged with its traceback by Django, as every unhandled exception.
        body = loader.get_template("409.html").render()
        response = HttpResponse(body, status=409)
        response["Cache-Control"] = "no-store"
        return response
    body = loader.get_template(template_name).render()
    return HttpResponse(body, status=500)


class ApiTokenUseMiddleware:
    """Write what token authentication noted, once the view's transaction has ended.

    Token authentication runs inside the request's transaction (ATOMIC_REQUESTS); an
    UPDATE of the token's row there would lock it until the request ends, so every other
    request with that token would wait. Here the write is a short statement of its own.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        use: tuple[Token, datetime] | None = getattr(request, "coprod_token_use", None)
        if use is not None:
            token, when = use
            try:
                token.record_use(when)
            except DatabaseError:
                logger.warning("could not record the use of API token %s", token.prefix)
        event: tuple[str, str] | None = getattr(request, "coprod_security_event", None)
        if event is not None:
            kind, detail = event
            security.report(kind, request=request, detail=detail)
        return response
