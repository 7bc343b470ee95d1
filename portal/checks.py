"""A system check: PORTAL_FRAME_ORIGINS holds origins a browser can match (scheme://host[:port])."""

import re

from django.conf import settings
from django.core.checks import Error, register

ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9.-]+(:\d{1,5})?$", re.IGNORECASE)


@register()
def frame_origins_check(app_configs, **kwargs):
    """Refuse a frame origin the CSP header could not say (a path, a quote, a space, a typo)."""
    bad = [origin for origin in getattr(settings, "PORTAL_FRAME_ORIGINS", []) if not ORIGIN.match(origin)]
    return [Error(f"PORTAL_FRAME_ORIGINS has {origin!r}, which is not an origin.",
                  hint="List origins such as https://www.club.example, comma-separated, no paths.",
                  id="portal.E001") for origin in bad]
