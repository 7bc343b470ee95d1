"""The admin's own pages beyond list, add, change, delete and history (the catalogue, imports,
exports, ...) answer each role as its permissions say. The pages are read from each
ModelAdmin's get_urls(), so a new one the matrix does not list fails here."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from packages.models import Package
from tests.staff.roles import MANAGER, OUTSIDERS, ROLES, is_login_redirect, log_in

pytestmark = pytest.mark.django_db
STANDARD = ("changelist", "add", "history", "delete", "change")
IMPORTABLE = ("clients_location", "clients_client", "packages_package", "packages_clientpackage", "accessctl_door")

# url name -> (method, roles that may); the page answers 200 (a POST that acts: 302) to them.
VIEWS = {
    ("integrations_integration_catalogue", "GET"): {MANAGER},
    ("integrations_integration_catalogue", "POST"): {MANAGER},
    ("integrations_integration_add", "GET"): {MANAGER},  # the type picker, before Django's add page
    ("auth_user_password_change", "GET"): set(),  # superusers only: no role edits users
    **{(f"{model}_import", "GET"): {MANAGER} for model in IMPORTABLE},
    **{(f"{model}_process_import", "POST"): {MANAGER} for model in IMPORTABLE},
    # Exports need their own permission: the desk views clients but cannot download them all.
    **{(f"{model}_export", "GET"): {MANAGER} for model in IMPORTABLE},
}


def custom_admin_views() -> set[str]:
    names = set()
    for model, model_admin in admin.site._registry.items():
        standard = {f"{model._meta.app_label}_{model._meta.model_name}_{page}" for page in STANDARD}
        # The change pages' buttons: their matrix is tests/staff/test_admin_buttons.py.
        standard.add(f"{model._meta.app_label}_{model._meta.model_name}_actions")
        names |= {url.name for url in model_admin.get_urls() if url.name and url.name not in standard}
    return names


def test_the_matrix_lists_every_custom_admin_page():
    assert custom_admin_views() == {name for name, _ in VIEWS} - {"integrations_integration_add"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", list(VIEWS), ids=[f"{name}:{method}" for name, method in VIEWS])
def test_custom_admin_page_for_each_role(client, integration, outside, key, role):
    name, method = key
    args = {"integrations_integration_catalogue": [integration.pk],
            "auth_user_password_change": [get_user_model().objects.create_user("someone").pk]}.get(name, [])
    headers = log_in(client, role)
    url = reverse(f"admin:{name}", args=args)
    response = client.post(url, **headers) if method == "POST" else client.get(url, **headers)
    if role in OUTSIDERS:
        assert is_login_redirect(response), response
    elif key == ("integrations_integration_catalogue", "POST") and role in VIEWS[key]:
        assert response.status_code == 302 and Package.objects.filter(alt_id="example_pt10").exists()
    elif role in VIEWS[key]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
    if role not in VIEWS[key]:
        assert outside.untouched(), outside.effects()
        assert not Package.objects.exists()


def test_the_catalogue_offers_to_create_packages_only_to_who_may(client, integration, outside, django_user_model):
    reader = django_user_model.objects.create_user("reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(reader)
    url = reverse("admin:integrations_integration_catalogue", args=[integration.pk])
    page = client.get(url).content.decode()
    assert "<table id=\"catalogue\">" in page and "missing</strong>" in page
    assert "Create the" not in page
    calls = outside.effects()["vendor calls"]
    assert client.post(url).status_code == 403
    assert outside.effects()["vendor calls"] == calls and not Package.objects.exists()
    log_in(client, MANAGER)
    assert "Create the" in client.get(url).content.decode()
