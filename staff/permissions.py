"""Who may open a staff page or press its button: the permission its admin counterpart needs.

The staff pages and the admin answer to the same permissions, so a role (README: Roles)
allows the same thing in both places.
"""

from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponseForbidden

DASHBOARD = "integrations.view_syncrun"  # the health cards are the sync runs, summed up
CLIENTS = "clients.view_client"
ACCESS_LOG = "accessctl.view_dooraccess"
ISSUES = "integrations.view_syncissue"
RESOLVE = "integrations.change_syncissue"  # the admin's "Mark resolved"
MEMBER_SYNC = "integrations.retry_client_sync"
SYNC_NOW = "integrations.change_integration"  # the admin's "Sync now": a whole sync, not one member
DELIVERIES = "integrations.view_delivery"
DELIVERY_RETRY = "integrations.change_delivery"  # the admin's "Retry now"


def refused() -> HttpResponseForbidden:
    """The answer to a logged-in staff user without the permission: no more than "no"."""
    return HttpResponseForbidden("no", content_type="text/plain")


def staff_permission_required(*perms: str):
    """An active staff user holding every one of `perms`; anonymous and non-staff users go
    to the admin login (as with staff_member_required), other staff get a bare 403."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                return refused()
            return view(request, *args, **kwargs)

        return staff_member_required(checked)

    return decorator
