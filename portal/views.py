"""The member portal's login, logout and home page (server-rendered, no JavaScript needed).

Every page but the login and the member-token link needs a logged-in member
(portal.sessions.member_required): that is the portal's one permission; a member sees
only their own records. Logins go through the same services as the app's API
(integrations.logins), with the same throttle, lockout, device trust and answers.
"""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accessctl.selectors import booking_doors_open_at, door_accesses_recent
from clients.throttles import LoginIPThrottle, MemberTokenIPThrottle, client_ip
from clients.tokens import member_tokens_revoke_all
from integrations.logins import (
    LOCKED,
    LOGIN_REFUSED,
    TOKEN_REFUSED,
    UNAVAILABLE,
    NoSuchTokenIntegration,
    member_login,
    member_token_login,
    token_integration,
)
from packages.selectors import bookings_upcoming, client_packages_active
from portal.forms import LoginForm
from portal.framing import portal_page
from portal.sessions import (
    device_cookie_set,
    device_key,
    member_required,
    member_session_end,
    member_session_start,
    portal_render,
    session_member,
)


def _next(request) -> str:
    """Where to go after logging in: a portal page of this site, else the home page."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted.startswith("/portal/") and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return reverse("portal:home")


def _throttled(request, throttle) -> int:
    """Seconds to wait when this address sent too many requests (the API's flood guard), else 0."""
    if throttle.allow_request(request, None):
        return 0
    return max(1, int(throttle.wait() or 1))


def _login_page(request, form, error: str = "", status: int = 200, retry_after: int = 0):
    response = portal_render(request, "portal/login.html", {"form": form, "error": error,
                                                            "next": _next(request)}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@portal_page
@require_http_methods(["GET", "POST"])
def login(request):
    """Log in with Gatehouse's or a member system's credentials, exactly as the app's API does."""
    if request.method == "GET":
        if session_member(request) is not None:
            return redirect(_next(request))
        return _login_page(request, LoginForm())
    form = LoginForm(request.POST)
    if not form.is_valid():
        return _login_page(request, form, status=400)
    if wait := _throttled(request, LoginIPThrottle()):
        return _login_page(request, form, LOCKED, status=429, retry_after=wait)
    key = device_key(request)
    outcome = member_login(identifier=form.cleaned_data["identifier"], password=form.cleaned_data["password"],
                           ip=client_ip(request), device_key=key)
    if outcome.unavailable:
        return _login_page(request, form, UNAVAILABLE, status=503, retry_after=outcome.retry_after)
    if outcome.locked:
        return _login_page(request, form, LOCKED, status=429, retry_after=outcome.retry_after)
    if not outcome.ok:
        return _login_page(request, form, LOGIN_REFUSED, status=401)
    member_session_start(request, client=outcome.client)
    return device_cookie_set(redirect(_next(request)), key)


@portal_page
@require_GET
def member_token(request):
    """A partner's link with the member's encrypted id: logs the member in, once, and goes home.

    The member system's connector refuses a tampered, expired or replayed token, so the
    same link does not log anybody in a second time.
    """
    token, reference = request.GET.get("token", ""), request.GET.get("integration", "")
    if not token or len(token) > 4096 or len(reference) > 64:
        return _refusal(request, "This login link is incomplete.", 400)
    if wait := _throttled(request, MemberTokenIPThrottle()):
        response = _refusal(request, LOCKED, 429)
        response["Retry-After"] = str(wait)
        return response
    try:
        integration = token_integration(reference=reference or None)
    except NoSuchTokenIntegration:
        return _refusal(request, "This login link names no member system that takes member links.", 400)
    outcome = member_token_login(integration=integration, token=token, ip=client_ip(request))
    if not outcome.ok:
        return _refusal(request, TOKEN_REFUSED, 401)
    member_session_start(request, client=outcome.client)
    response = redirect("portal:home")
    response["Referrer-Policy"] = "no-referrer"  # the token must not travel on to another site
    return response


def _refusal(request, message: str, status: int):
    response = portal_render(request, "portal/refused.html", {"message": message}, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response


@portal_page
@require_POST
def logout(request):
    """Log this browser out (its login ends; the member's other devices stay logged in)."""
    member_session_end(request)
    return redirect("portal:login")


@portal_page
@require_POST
@member_required
def logout_everywhere(request):
    """End every login of the member: portal sessions on every browser and the app's tokens."""
    member_tokens_revoke_all(client=request.member)
    member_session_end(request)
    return redirect(f"{reverse('portal:login')}?everywhere=1")


@portal_page
@require_GET
@member_required
def home(request):
    """The member's name and home location, packages with credits, bookings with their door
    window, and recent door accesses, in each location's own time zone."""
    member, now = request.member, timezone.now()
    bookings = list(bookings_upcoming(client_id=member.pk, now=now, limit=10))
    opens = booking_doors_open_at(bookings=bookings, now=now)
    return portal_render(request, "portal/home.html", {
        "packages": client_packages_active(client_id=member.pk, now=now),
        "bookings": [{"booking": b, "zone": b.session.location.zone, "doors_open": opens.get(b.pk)}
                     for b in bookings],
        "accesses": [{"access": a, "zone": a.door.location.zone} for a in door_accesses_recent(client_id=member.pk)],
    })
