"""API authentication: personal tokens (`Authorization: Token <key>`) and their failures.

The token model is the project's `COPROD_API_TOKEN_MODEL` setting, found by name, so that
this layer knows no app (docs/ARCHITECTURE.md).
"""

import hmac
import logging
import re

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

security_log = logging.getLogger("coprod.security")


_TOKEN_KEY = re.compile(r"^(?P<prefix>[0-9a-f]{8})\.[A-Za-z0-9_-]{20,100}$")


class TokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>`: the key is found by its prefix, checked by its hash.

    Two things keep a token from costing more than it should:

    * `last_used_at` is written at most once per `ApiToken.USE_RECORDING_INTERVAL`, and
      not here but after the response (`ApiTokenUseMiddleware`), outside the request's
      transaction: a long request does not hold the token's row, so other requests with
      the same token never queue behind it.
    * Failed attempts are counted per client address in the cache. Past the
      `token_failures` rate the client gets 429 without its key being looked at; the
      security log gets one line for the first failure of a window and one event when
      the limit is reached, never one database row per attempt.
    """

    keyword = "Token"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        failures = TokenFailures(request)
        failures.refuse_if_over_limit()
        try:
            if len(header) != 2:
                raise exceptions.AuthenticationFailed(
                    _("Give the token after the word Token, with no spaces in it.")
                )
            try:
                key = header[1].decode("ascii")
            except UnicodeError:
                raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
            user, token = self.authenticate_key(key)
        except exceptions.AuthenticationFailed as refusal:
            failures.count(refusal)
            raise
        now = timezone.now()
        if token.use_is_due(now):
            # The Django request outlives DRF's wrapper; the middleware reads it there.
            request._request.coprod_token_use = (token, now)
        return user, token

    def authenticate_key(self, key):
        ApiToken = apps.get_model(settings.COPROD_API_TOKEN_MODEL)
        match = _TOKEN_KEY.match(key)
        token = None
        if match:
            token = ApiToken.objects.select_related("user").filter(prefix=match["prefix"]).first()
        # Compare against a hash even when no token has the prefix, so timing does not
        # tell which prefixes exist.
        expected = token.key_hash if token else ApiToken.hash_key("")
        if not hmac.compare_digest(expected, ApiToken.hash_key(key)) or token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is disabled."))
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 to anonymous clients.
        return self.keyword


class TokenFailures:
    """Failed token attempts from one client address, counted in the shared cache."""

    scope = "token_failures"

    def __init__(self, request):
        self.request = request
        self.address = request.META.get("REMOTE_ADDR") or "unknown"
        self.key = f"coprod:{self.scope}:{self.address}"
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        self.limit, self.window = SimpleRateThrottle.parse_rate(None, rate)

    def refuse_if_over_limit(self):
        if self.limit is not None and (cache.get(self.key) or 0) >= self.limit:
            raise exceptions.Throttled(
                wait=self.window,
                detail=str(_("Too many invalid tokens from your address. Try again later.")),
            )

    def count(self, refusal):
        if self.limit is None:
            return
        cache.add(self.key, 0, timeout=self.window)
        try:
            failures = cache.incr(self.key)
        except ValueError:  # expired between add and incr
            cache.set(self.key, 1, timeout=self.window)
            failures = 1
        if failures == 1:
            security_log.warning(
                "invalid API token from %s on %s %s: %s",
                self.address,
                self.request.method,
                self.request.path,
                refusal.detail,
            )
        elif failures == self.limit:
            detail = (
                f"{failures} invalid API tokens in {self.window} s; "
                "further attempts refused until the window ends"
            )
            security_log.warning("API token attempts from %s throttled: %s", self.address, detail)
            # Recorded after the response, outside the request's transaction.
            self.request._request.coprod_security_event = ("rate_limited", detail)


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A personal token from your account page, sent as `Authorization: Token <key>`."
            ),
        }
