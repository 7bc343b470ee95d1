"""The buttons on the admin's change pages (django-object-actions) and who may press them.

They are read from `admin.site._registry` (`change_actions`), so a new button the matrix
does not list fails here. Each button needs the permissions of the list action it presses;
each is pressed (a POST with CSRF to its change page's action URL) by every role of
tests/staff/roles.py: where it is refused, no vendor was called, no task queued, no door
opened; the buttons a role may not press are not on the page it sees.
"""

from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.test import Client as BrowserClient
from django.urls import reverse

from clients.models import IdentityType
from integrations.perfectgym.sandbox import CLIENT_SECRET as PG_CLIENT_SECRET
from integrations.services import integration_save
from tests.accessctl.doubles import RecordingDoors
from tests.integrations.perfectgym.conftest import pg_settings
from tests.integrations.perfectgym.test_webhooks import token_of
from tests.staff.roles import FRONT_DESK, MANAGER, OUTSIDERS, ROLES, is_login_redirect, log_in
from tests.staff.test_admin_permissions import tasks, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def button(record, done, may, data=None, method="post"):
    return SimpleNamespace(record=record, done=done, may=may, data=data or {}, method=method)


def token_vendor(w):
    """An integration whose webhook address carries a token (Perfect Gym), made once a test;
    the token it started with is kept to see a new one."""
    if not hasattr(w, "token_vendor"):
        w.token_vendor = integration_save(
            kind="perfectgym", name="Tokens", settings=pg_settings(IdentityType.objects.create(display_name="PG")),
            secrets={"client_secret": PG_CLIENT_SECRET})
        w.first_token = token_of(w.token_vendor)
    return w.token_vendor


BUTTONS = {
    ("integrations.integration", "test_connection_button"): button(
        lambda w: w.integration, lambda w, o, r: o.effects()["vendor calls"] > 0, {MANAGER}),
    ("integrations.integration", "sync_now_button"): button(
        lambda w: w.integration, lambda w, o, r: tasks(o), {MANAGER}),
    ("integrations.integration", "perform_initial_sync_button"): button(
        lambda w: w.integration, lambda w, o, r: tasks(o), {MANAGER}, {"apply": "1", "scope": "all"}),
    # A link to the catalogue page (which asks "add package" before creating any).
    ("integrations.integration", "catalogue_button"): button(
        lambda w: w.integration, lambda w, o, r: r["Location"].endswith(f"/{w.integration.pk}/catalogue/"),
        {MANAGER}, method="get"),
    ("integrations.integration", "webhook_address_new_button"): button(
        token_vendor, lambda w, o, r: token_of(w.token_vendor) != w.first_token, {MANAGER}),
    ("accessctl.door", "test_unlock_button"): button(
        lambda w: w.door, lambda w, o, r: RecordingDoors.calls == [(w.door.pk, None, None)], {MANAGER}),
    ("clients.client", "sync_member_now_button"): button(
        lambda w: w.member, lambda w, o, r: tasks(o), {FRONT_DESK, MANAGER}),
}


def declared_buttons():
    for model, model_admin in admin.site._registry.items():
        for name in getattr(model_admin, "change_actions", ()):
            yield model._meta.label_lower, name, getattr(model_admin, name), model_admin


def test_every_button_declares_the_permissions_of_its_list_action():
    for label, name, func, model_admin in declared_buttons():
        assert func.allowed_permissions, f"{label}: the button {name!r} declares no permissions"
        for permission in func.allowed_permissions:
            assert callable(getattr(model_admin, f"has_{permission}_permission", None)), (label, name, permission)
        if getattr(func, "list_action", None):
            action = getattr(type(model_admin), func.list_action)
            assert func.allowed_permissions == action.allowed_permissions, (label, name)
            assert func.list_action in model_admin.actions, f"{label}: {name} presses no list action"
        if "GET" in func.methods:
            assert func.allowed_permissions == ["view"], f"{label}: {name} acts on a GET"


def test_the_matrix_lists_every_button():
    assert {(label, name) for label, name, *_ in declared_buttons()} == set(BUTTONS)


def _url(label, name, record):
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_actions", kwargs={"pk": record.pk, "tool": name})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", list(BUTTONS), ids=[f"{label}:{name}" for label, name in BUTTONS])
def test_button_for_each_role(client, world, outside, key, role):  # noqa: F811 - the fixture
    label, name = key
    case = BUTTONS[key]
    headers = log_in(client, role)
    url = _url(label, name, case.record(world))
    response = (client.get(url, **headers) if case.method == "get"
                else client.post(url, case.data, **headers))
    if role in OUTSIDERS:
        assert is_login_redirect(response), response
    elif role in case.may:
        assert response.status_code == 302, response
        assert case.done(world, outside, response), f"{role} pressed {name} and nothing happened"
        return
    else:
        assert response.status_code == 403
    assert outside.untouched(), outside.effects()


@pytest.mark.parametrize("key", [k for k, c in BUTTONS.items() if c.method == "post"],
                         ids=[f"{label}:{name}" for (label, name), c in BUTTONS.items() if c.method == "post"])
def test_a_button_that_acts_needs_a_post_with_its_csrf_token(world, outside, django_user_model, key):  # noqa: F811
    label, name = key
    case = BUTTONS[key]
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw"))
    url = _url(label, name, case.record(world))
    assert browser.post(url, case.data).status_code == 403  # no token
    assert browser.get(url).status_code == 405
    assert outside.untouched(), outside.effects()


@pytest.mark.parametrize("role", [FRONT_DESK, MANAGER])
def test_a_role_sees_the_buttons_it_may_press(client, world, role):  # noqa: F811
    log_in(client, role)
    for (label, name), case in BUTTONS.items():
        app, model = label.split(".")
        page = client.get(reverse(f"admin:{app}_{model}_change", args=[case.record(world).pk]))
        if page.status_code == 403:  # the role may not open the page at all
            assert role not in case.may
            continue
        shown = f'data-tool-name="{name}"' in page.content.decode()
        assert shown == (role in case.may), (role, label, name)
