"""Request rates per anonymous address and per token or user, read from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:
    # Type names only: DRF loads the throttles while `rest_framework.views` loads.
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _SettingsRate(SimpleRateThrottle):
    """Read the rate when used, not at import, so that a settings change applies."""

    def get_rate(self) -> str | None:
        # The stubs type the rates as numbers; DRF's rates are texts such as "60/min".
        rates = cast("dict[str, str | None]", api_settings.DEFAULT_THROTTLE_RATES)
        return rates.get(self.scope) if self.scope else None


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Anonymous clients, per address (rate: `API_THROTTLE_ANON`)."""


class TokenOrUserThrottle(_SettingsRate, UserRateThrottle):
    """Signed-in clients, per token when one is used, else per user (`API_THROTTLE_USER`)."""

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        token = getattr(request.auth, "prefix", None)
        ident = f"token-{token}" if token else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenFailureRate(_SettingsRate):
    """Failed token attempts per address (`API_TOKEN_FAILURES`): not a throttle of
    requests, but the allowance that `auth.TokenFailures` counts against."""

    scope = "token_failures"
