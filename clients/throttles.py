"""DRF throttles for the member app's unauthenticated endpoints (the first defence layer).

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] by scope; counts live in the
shared cache (Redis or the database), so every process sees the same numbers. The
exact, atomic failure counts behind the lockout are in clients.lockout.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from clients.lockout import identifier_digest


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


class LoginIdentifierThrottle(ScopedThrottle):
    """Login attempts per identifier, from any address (guessing one member's password)."""

    scope = "login_identifier"

    def get_cache_key(self, request, view):
        try:
            identifier = request.data.get("identifier")
        except Exception:  # an unreadable body is refused by the view's serializer
            return None
        if not isinstance(identifier, str) or not identifier.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": identifier_digest(identifier)}
