"""Every admin action declares its permission, and the matrix of who may press each one.

The actions are read from `admin.site._registry`, so a new action without permissions,
or one the matrix does not list, fails here. Each action is pressed (a POST to its
changelist with `action` and `_selected_action`) by every role of tests/staff/roles.py;
where it is refused, no vendor was called, no task queued, no door opened, no record changed.
"""

import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django_q.models import Task

from accessctl.models import Door, DoorAccess
from clients.models import Client
from clients.tokens import member_token_authenticate, member_tokens_issue
from integrations.models import Delivery, SyncIssue
from tests.accessctl.doubles import RecordingDoors
from tests.factories import ClientFactory, DoorFactory
from tests.staff.roles import FRONT_DESK, MANAGER, OUTSIDERS, ROLES, is_login_redirect, log_in

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    """One action: what it is pressed on, what success looks like, who may and who sees the list."""

    selected: object  # world -> [pk, ...]
    done: object  # (world, outside) -> bool
    may: set
    sees: set
    data: dict = field(default_factory=dict)
    query: str = ""  # the changelist's filters, as the page that offers the action has them


def tasks(outside):
    return outside.effects()["tasks queued"] > 0


CASES = {
    ("integrations.integration", "test_connection"): Case(
        lambda w: [w.integration.pk], lambda w, o: o.effects()["vendor calls"] > 0, {MANAGER}, {MANAGER}),
    ("integrations.integration", "sync_now"): Case(
        lambda w: [w.integration.pk], lambda w, o: tasks(o), {MANAGER}, {MANAGER}),
    ("integrations.integration", "perform_initial_sync"): Case(
        lambda w: [w.integration.pk], lambda w, o: tasks(o), {MANAGER}, {MANAGER}, {"apply": "1", "scope": "all"}),
    ("integrations.syncissue", "resolve"): Case(
        lambda w: [w.issue.pk], lambda w, o: SyncIssue.objects.get(pk=w.issue.pk).resolved_at is not None,
        {MANAGER}, {FRONT_DESK, MANAGER}),
    ("accessctl.door", "test_unlock"): Case(
        lambda w: [w.door.pk], lambda w, o: RecordingDoors.calls == [(w.door.pk, None, None)],
        {MANAGER}, {FRONT_DESK, MANAGER}),
    ("accessctl.door", "delete_selected"): Case(
        lambda w: [w.spare_door.pk], lambda w, o: not Door.objects.filter(pk=w.spare_door.pk).exists(),
        {MANAGER}, {FRONT_DESK, MANAGER}, {"post": "yes"}),
    ("integrations.delivery", "retry_now"): Case(
        lambda w: [w.delivery.pk], lambda w, o: Delivery.objects.get(pk=w.delivery.pk).state == "pending",
        {MANAGER}, {FRONT_DESK, MANAGER}),
    ("clients.client", "restore_clients"): Case(
        lambda w: [w.deleted.pk], lambda w, o: Client.all_objects.get(pk=w.deleted.pk).deleted_at is None,
        {MANAGER}, {FRONT_DESK, MANAGER}, query="?deleted=yes"),
    ("clients.client", "sync_members_now"): Case(
        lambda w: [w.member.pk], lambda w, o: tasks(o), {FRONT_DESK, MANAGER}, {FRONT_DESK, MANAGER}),
    ("clients.client", "revoke_app_tokens"): Case(
        lambda w: [w.app_user.pk], lambda w, o: member_token_authenticate(token=w.app_token) is None,
        {MANAGER}, {FRONT_DESK, MANAGER}),
    # The admin login's lockouts (django-axes): the Manager unlocks logins.
    ("axes.accessattempt", "delete_selected"): Case(
        lambda w: [w.login_attempt.pk], lambda w, o: not AccessAttempt.objects.filter(pk=w.login_attempt.pk).exists(),
        {MANAGER}, {MANAGER}, {"post": "yes"}),
    # The task queue is the operator's: resubmitting runs any task again. Superusers only.
    ("django_q.success", "resubmit_task"): Case(lambda w: [w.success.pk], lambda w, o: tasks(o), set(), set()),
    ("django_q.failure", "resubmit_task"): Case(lambda w: [w.failure.pk], lambda w, o: tasks(o), set(), set()),
}


def declared_actions():
    """(model label, action name, function, ModelAdmin) of every action the admin has."""
    for model, model_admin in admin.site._registry.items():
        for func, name, _ in model_admin._get_base_actions():  # every action, before permission filtering
            yield model._meta.label_lower, name, func, model_admin


def test_every_admin_action_declares_the_permissions_it_needs():
    for label, name, func, model_admin in declared_actions():
        permissions = getattr(func, "allowed_permissions", ())
        assert permissions, f"{label}: the action {name!r} declares no permissions=[...]"
        for permission in permissions:
            assert callable(getattr(model_admin, f"has_{permission}_permission", None)), (label, name, permission)


def test_the_matrix_lists_every_action_of_the_product():
    # Django's own delete_selected (permissions=["delete"]) is on every model; two are in the matrix
    # (a door, and an admin-login lockout: how a Manager unlocks someone).
    product = {(label, name) for label, name, *_ in declared_actions() if name != "delete_selected"}
    assert product == {key for key in CASES if key[1] != "delete_selected"}


def _task(success: bool) -> Task:
    now = timezone.now()
    return Task.objects.create(id=uuid.uuid4().hex, name=f"task-{success}", func="math.floor", args=(1.5,),
                               kwargs={}, started=now, stopped=now, success=success)


@pytest.fixture
def world(integration):
    """One record for each action to be pressed on, in the state that action changes."""
    door = DoorFactory(title="Open gym", access_control="kisi", kisi_lock_id="4711")
    member = ClientFactory(source=integration.source, external_id="m1")
    access = DoorAccess.objects.create(client=member, door=door, accessed_at=timezone.now(), source="kisi-1",
                                       source_ref="evt-1")
    app_user = ClientFactory()
    return SimpleNamespace(
        integration=integration, door=door, spare_door=DoorFactory(title="Spare"),
        issue=SyncIssue.objects.create(integration=integration, sync_name="members", record_key="m1",
                                       reason="The member has no first name."),
        delivery=Delivery.objects.create(integration=integration, kind="checkin", key=f"checkin:{access.pk}",
                                         sync_name="checkins", record_type="door_access", record_id=access.pk,
                                         client=member, payload={"member_id": "g1"}, state="gave_up", attempts=10),
        member=member,
        deleted=ClientFactory(deleted_at=timezone.now(), is_active=False),
        app_user=app_user, app_token=member_tokens_issue(client=app_user).access,
        success=_task(True), failure=_task(False),
        login_attempt=AccessAttempt.objects.create(
            username="someone", ip_address="192.0.2.1", user_agent="", get_data="", post_data="", http_accept="",
            path_info="/admin/login/", failures_since_start=5),
    )


def expected(case: Case, role: str) -> str:
    if role in OUTSIDERS:
        return "login"
    if role in case.may:
        return "done"
    return "refused" if role in case.sees else "forbidden"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", list(CASES), ids=[f"{label}:{name}" for label, name in CASES])
def test_admin_action_for_each_role(client, world, outside, key, role):
    label, name = key
    case = CASES[key]
    headers = log_in(client, role)
    url = reverse(f"admin:{label.replace('.', '_')}_changelist") + case.query
    response = client.post(url, {"action": name, "_selected_action": case.selected(world), **case.data},
                           **headers)
    answer = expected(case, role)
    if answer == "login":
        assert is_login_redirect(response), response
    elif answer == "forbidden":
        assert response.status_code == 403
    elif answer == "refused":  # the list is shown (or sent back to) without the action
        assert response.status_code in (200, 302)
        model_admin = admin.site._registry[apps.get_model(label)]
        assert name not in model_admin.get_actions(response.wsgi_request)
        assert messages.SUCCESS not in [m.level for m in get_messages(response.wsgi_request)]
    if answer == "done":
        assert response.status_code == 302, response
        assert case.done(world, outside), f"{role} pressed {name} and nothing happened"
    else:
        assert not case.done(world, outside), f"{role} was refused {name}, yet it happened"
        assert outside.untouched(), outside.effects()


@pytest.mark.parametrize("key", list(CASES), ids=[f"{label}:{name}" for label, name in CASES])
def test_the_view_permission_alone_presses_no_action(client, world, outside, django_user_model, key):
    """The attack in issue 14: a staff user who may only view doors pressed "Test unlock"."""
    label, name = key
    model = apps.get_model(label)
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(
        content_type__app_label=model._meta.app_label, codename=f"view_{model._meta.model_name}"))
    client.force_login(viewer)
    url = reverse(f"admin:{label.replace('.', '_')}_changelist") + CASES[key].query
    response = client.post(url, {"action": name, "_selected_action": CASES[key].selected(world), **CASES[key].data})
    assert response.status_code in (200, 302)
    assert name not in admin.site._registry[model].get_actions(response.wsgi_request)
    assert not CASES[key].done(world, outside) and outside.untouched(), outside.effects()
