"""What the permission tests share: the six callers they try, and what "nothing happened"
means outside the database (no vendor call, no task queued, no door opened)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_q.models import OrmQ

from clients.tokens import member_tokens_issue
from tests.accessctl.doubles import RecordingDoors
from tests.api.helpers import bearer
from tests.factories import ClientFactory

ANONYMOUS = "anonymous"
TOKEN = "member-app token"
NOT_STAFF = "Manager group, not staff"
NO_PERMISSIONS = "staff without permissions"
FRONT_DESK = "Front desk"
MANAGER = "Manager"
ROLES = [ANONYMOUS, TOKEN, NOT_STAFF, NO_PERMISSIONS, FRONT_DESK, MANAGER]
# No staff session: the admin and the staff pages send these to the admin login.
OUTSIDERS = {ANONYMOUS, TOKEN, NOT_STAFF}
STAFF_OF = {NO_PERMISSIONS: None, FRONT_DESK: "Front desk", MANAGER: "Manager", NOT_STAFF: "Manager"}


def log_in(client, role: str) -> dict:
    """Make `client` (Django's test client) call as `role`; returns headers for each request."""
    if role == ANONYMOUS:
        return {}
    if role == TOKEN:  # a member's app token is no staff login anywhere
        return bearer(member_tokens_issue(client=ClientFactory()).access)
    user = get_user_model().objects.create_user(role.replace(" ", "-").lower(), is_staff=role != NOT_STAFF)
    if STAFF_OF[role]:
        user.groups.add(Group.objects.get(name=STAFF_OF[role]))
    client.force_login(user)
    return {}


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/admin/login/?next=")


@dataclass
class Outside:
    """The world outside the database: `vendor` is the `responses` mock every HTTP call meets."""

    vendor: object

    def effects(self) -> dict:
        return {"vendor calls": len(self.vendor.calls), "tasks queued": OrmQ.objects.count(),
                "door unlocks": len(RecordingDoors.calls)}

    def untouched(self) -> bool:
        return not any(self.effects().values())
