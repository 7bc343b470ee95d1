"""DRF throttles for the member app's unauthenticated endpoints (the first defence layer).

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] by scope; counts live in the
shared cache (Redis or the database), so every process sees the same numbers. They
count every request per address, a flood guard; nothing here is keyed on an identifier,
since a count of a member's requests would count their successes too. The per-identifier
limits are clients.lockout's exact, atomic failure counts.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_ip(request) -> str:
    """The caller's address as the throttles see it (REMOTE_ADDR unless NUM_PROXIES says)."""
    return BaseThrottle().get_ident(request) or "-"


class ScopedThrottle(SimpleRateThrottle):
    """A per-IP throttle whose rate is read at request time (so settings overrides apply)."""

    scope = ""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


class LoginIPThrottle(ScopedThrottle):
    scope = "login_ip"


class MemberTokenIPThrottle(ScopedThrottle):
    scope = "member_token"


class TokenRefreshIPThrottle(ScopedThrottle):
    scope = "token_refresh"
