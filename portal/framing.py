"""Who may frame the portal: the origins in settings.PORTAL_FRAME_ORIGINS, nobody by default."""

from functools import wraps

from django.conf import settings
from django.views.decorators.cache import never_cache


def framing_headers(response):
    """CSP frame-ancestors (and X-Frame-Options DENY when nobody may frame the portal)."""
    origins = list(getattr(settings, "PORTAL_FRAME_ORIGINS", []))
    if origins:
        response["Content-Security-Policy"] = "frame-ancestors " + " ".join(origins)
        response.xframe_options_exempt = True  # X-Frame-Options cannot list origins; the CSP decides
    else:
        response["Content-Security-Policy"] = "frame-ancestors 'none'"
        response["X-Frame-Options"] = "DENY"
    return response


def portal_page(view):
    """Every portal response: framing headers, and never cached (they show a member's own records)."""

    @wraps(view)
    def framed(request, *args, **kwargs):
        return framing_headers(view(request, *args, **kwargs))

    return never_cache(framed)
