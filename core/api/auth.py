"""API authentication: personal tokens (`Authorization: Token <key>`) and their failures.

The token model is the project's `COPROD_API_TOKEN_MODEL` setting, found by name, so that
this layer knows no app (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import hmac
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from django.apps import apps
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.db.models import Manager
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .throttles import TokenFailureRate

if TYPE_CHECKING:
    # Type names only: DRF loads the authentication while `rest_framework.views` loads.
    from rest_framework.request import Request

security_log = logging.getLogger("coprod.security")


_TOKEN_KEY = re.compile(r"^(?P<prefix>[0-9a-f]{8})\.[A-Za-z0-9_-]{20,100}$")


class Token(Protocol):
    """What authentication reads of a token, an instance of `COPROD_API_TOKEN_MODEL`."""

    prefix: str
    key_hash: str
    revoked_at: datetime | None
    user: AbstractBaseUser

    def use_is_due(self, now: datetime) -> bool: ...

    def record_use(self, now: datetime) -> None: ...


class TokenModel(Protocol):
    """The token model itself: its rows, and the hash that a key is checked by."""

    _default_manager: Manager[Any]

    @staticmethod
    def hash_key(key: str) -> str: ...


class _NotedRequest(HttpRequest):
    """The Django request with what is noted on it for `ApiTokenUseMiddleware`, which
    records it after the response: the Django request outlives DRF's wrapper."""

    coprod_token_use: tuple[Token, datetime]
    coprod_security_event: tuple[str, str]


def _noted(request: Request) -> _NotedRequest:
    return cast(_NotedRequest, request._request)


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

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, Token] | None:
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
            _noted(request).coprod_token_use = (token, now)
        return user, token

    def authenticate_key(self, key: str) -> tuple[AbstractBaseUser, Token]:
        ApiToken = cast(TokenModel, apps.get_model(settings.COPROD_API_TOKEN_MODEL))
        match = _TOKEN_KEY.match(key)
        token: Token | None = None
        if match:
            token = (
                ApiToken._default_manager.select_related("user")
                .filter(prefix=match["prefix"])
                .first()
            )
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

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 to anonymous clients.
        return self.keyword


class TokenFailures:
    """Failed token attempts from one client address, counted in the shared cache."""

    scope = TokenFailureRate.scope

    def __init__(self, request: Request) -> None:
        self.request = request
        self.address = request.META.get("REMOTE_ADDR") or "unknown"
        self.key = f"coprod:{self.scope}:{self.address}"
        rate = TokenFailureRate()
        self.limit, self.window = rate.parse_rate(rate.get_rate())

    def refuse_if_over_limit(self) -> None:
        if self.limit is not None and (cache.get(self.key) or 0) >= self.limit:
            raise exceptions.Throttled(
                wait=self.window,
                detail=str(_("Too many invalid tokens from your address. Try again later.")),
            )

    def count(self, refusal: exceptions.AuthenticationFailed) -> None:
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
            _noted(self.request).coprod_security_event = ("rate_limited", detail)


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A personal token from your account page, sent as `Authorization: Token <key>`."
            ),
        }
