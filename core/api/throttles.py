"""Request rates per anonymous address and per token or user, read from the settings."""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _SettingsRate:
    """Read the rate when used, not at import, so that a settings change applies."""

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            return None


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Anonymous clients, per address (rate: `API_THROTTLE_ANON`)."""


class TokenOrUserThrottle(_SettingsRate, UserRateThrottle):
    """Signed-in clients, per token when one is used, else per user (`API_THROTTLE_USER`)."""

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token = getattr(request.auth, "prefix", None)
        ident = f"token-{token}" if token else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
