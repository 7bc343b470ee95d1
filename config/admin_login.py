"""The admin (and staff) login's lockout, by django-axes, and the known-device cookie.

django-axes counts failed logins per username and per address and refuses both once
AXES_FAILURE_LIMIT is reached, for AXES_COOLOFF_TIME. A browser that logged in before
carries a signed device cookie naming (by digest) the usernames that logged in there;
for those usernames axes counts only this address's failures for that username, so an
attacker elsewhere cannot lock the manager out, while guesses made with a stolen cookie
are still limited per address (and still count against the username everywhere else).
"""

import ipaddress

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessBase
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core import signing
from django.dispatch import receiver
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from rest_framework.throttling import BaseThrottle

DEVICE_SALT = "gatehouse.admin-login.device"
DEVICE_USERNAMES_KEPT = 5  # a shared front-desk browser remembers its last few staff users
PER_USERNAME_AND_ADDRESS = ["username", "ip_address"]
FOR_A_KNOWN_DEVICE = [["username", "ip_address"]]


def client_ip(request) -> str | None:
    """The address axes counts: REMOTE_ADDR unless NUM_PROXIES says (the DRF throttles' rule)."""
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address((ident or "").strip()))
    except ValueError:
        # A malformed forwarded address (misconfigured proxies) counts as the socket's.
        return request.META.get("REMOTE_ADDR") or None


def _username_digest(username: str) -> str:
    return salted_hmac(DEVICE_SALT, username).hexdigest()[:32]


def _device_digests(request) -> list[str]:
    value = request.COOKIES.get(settings.ADMIN_DEVICE_COOKIE_NAME)
    if not value:
        return []
    try:
        digests = signing.loads(value, salt=DEVICE_SALT, max_age=settings.ADMIN_DEVICE_COOKIE_DAYS * 86400)
    except signing.BadSignature:
        return []
    return [d for d in digests if isinstance(d, str)] if isinstance(digests, list) else []


def device_knows(request, username: str | None) -> bool:
    """True if the request carries a valid device cookie from an earlier login of `username`."""
    return bool(username) and _username_digest(username) in _device_digests(request)


def lockout_parameters(request_or_attempt, credentials=None) -> list:
    """AXES_LOCKOUT_PARAMETERS: per username and per address, or only the pair for a known device."""
    if isinstance(request_or_attempt, AccessBase):
        return PER_USERNAME_AND_ADDRESS
    if device_knows(request_or_attempt, get_client_username(request_or_attempt, credentials)):
        return FOR_A_KNOWN_DEVICE
    return PER_USERNAME_AND_ADDRESS


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the same short page for every lockout (no limit, time or reason)."""
    return render(request, "admin/login_locked.html", status=settings.AXES_HTTP_RESPONSE_CODE)


@receiver(user_logged_in, dispatch_uid="gatehouse_admin_login_device")
def device_remember(sender, request, user, **kwargs):
    """After a login: forget this address's failures for the user; the response sets the cookie."""
    if request is None:
        return
    username, address = user.get_username(), client_ip(request)
    if address:
        # Not AXES_RESET_ON_SUCCESS: that clears every failure from the address, so an attacker
        # logging in to an account of their own would wipe their guesses at someone else's.
        AxesProxyHandler.reset_attempts(username=username, ip_address=address)
    digest = _username_digest(username)
    request.gatehouse_device_digests = [digest, *(d for d in _device_digests(request) if d != digest)][
        :DEVICE_USERNAMES_KEPT]


class KnownDeviceMiddleware:
    """Set the signed device cookie on the response to a successful login."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        digests = getattr(request, "gatehouse_device_digests", None)
        if digests:
            response.set_cookie(
                settings.ADMIN_DEVICE_COOKIE_NAME, signing.dumps(digests, salt=DEVICE_SALT),
                max_age=settings.ADMIN_DEVICE_COOKIE_DAYS * 86400, httponly=True,
                secure=settings.SESSION_COOKIE_SECURE, samesite="Lax")
        return response
