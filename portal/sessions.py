"""Members' portal sessions: Django's session cookie holding the member's login family.

A portal login is a login like the app's (clients.tokens): it starts a token family, and
the session keeps only that family's id. Each request finds the member through
clients.tokens.member_login_client, so logging out (this family revoked), "log out
everywhere" and a staff revocation (every family of the member revoked) end portal
sessions and app tokens through the same rows. Members are Client records, not Django
users: a staff user's admin login in the same browser is left alone.

The device cookie is a signed, long-lived random value: the opaque device key the
login defences (clients.lockout) trust after a successful login from this browser.
"""

import secrets
import uuid
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.shortcuts import redirect, render
from django.urls import reverse

from clients.models import Client
from clients.selectors import club_settings
from clients.tokens import member_login_client, member_tokens_issue, member_tokens_revoke_family

SESSION_KEY = "portal_login_family"
DEVICE_COOKIE = "gatehouse_member_device"
DEVICE_SALT = "gatehouse.portal.device"


def member_session_start(request, *, client: Client) -> None:
    """Log `client` in on this browser: a new session key (no fixation) and a new login family."""
    family = uuid.uuid4()
    member_tokens_issue(client=client, family=family)
    request.session.cycle_key()
    request.session[SESSION_KEY] = str(family)


def _family(request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.session.get(SESSION_KEY, ""))
    except (TypeError, ValueError):
        return None


def session_member(request) -> Client | None:
    """The member this browser is logged in as, while their login lasts."""
    family = _family(request)
    return member_login_client(family=family) if family else None


def member_session_end(request) -> None:
    """Log this browser out: its login family is revoked, the session forgets it."""
    if (family := _family(request)) is not None:
        member_tokens_revoke_family(family=family)
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def member_required(view):
    """Pages for a logged-in member (the portal's only permission); others go to the login."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        member = session_member(request)
        if member is None:
            request.session.pop(SESSION_KEY, None)
            return redirect(f"{reverse('portal:login')}?{urlencode({'next': request.get_full_path()})}")
        request.member = member
        return view(request, *args, **kwargs)

    return checked


def portal_render(request, template: str, context: dict | None = None, status: int = 200):
    """Render a portal page with the club's name, logo and colour, and the member if any."""
    member = getattr(request, "member", None)
    return render(request, template, {"club": club_settings(), "member": member, **(context or {})},
                  status=status)


def device_key(request) -> str:
    """This browser's device key from its signed cookie, or a fresh one (set by device_cookie_set)."""
    try:
        return signing.loads(request.COOKIES.get(DEVICE_COOKIE, ""), salt=DEVICE_SALT,
                             max_age=settings.PORTAL_DEVICE_COOKIE_DAYS * 86400)
    except signing.BadSignature:
        return secrets.token_urlsafe(24)


def device_cookie_set(response, key: str):
    """Remember the device key on this browser (renewed at each successful login)."""
    response.set_cookie(DEVICE_COOKIE, signing.dumps(key, salt=DEVICE_SALT),
                        max_age=settings.PORTAL_DEVICE_COOKIE_DAYS * 86400, httponly=True,
                        secure=settings.SESSION_COOKIE_SECURE, samesite="Lax")
    return response
