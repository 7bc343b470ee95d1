"""Framing by PORTAL_FRAME_ORIGINS, and the club's name, logo and colour from Club settings."""

import pytest
from django.core.exceptions import ValidationError

from clients.models import ClubSettings
from portal.checks import frame_origins_check


@pytest.mark.parametrize("path", ["/portal/login", "/portal/"])
def test_nobody_may_frame_the_portal_by_default(client, db, path):
    answer = client.get(path)
    assert answer["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert answer["X-Frame-Options"] == "DENY"
    assert "no-store" in answer["Cache-Control"]


def test_the_listed_origins_may_frame_it(client, db, settings):
    settings.PORTAL_FRAME_ORIGINS = ["https://www.club.example", "https://club.example"]
    answer = client.get("/portal/login")
    assert answer["Content-Security-Policy"] == "frame-ancestors https://www.club.example https://club.example"
    assert "X-Frame-Options" not in answer
    assert client.get("/admin/login/")["X-Frame-Options"] == "DENY"  # only the portal


def test_an_origin_that_is_not_one_fails_the_check(settings):
    settings.PORTAL_FRAME_ORIGINS = ["https://www.club.example/join", "https://ok.example:8443"]
    (error,) = frame_origins_check(None)
    assert error.id == "portal.E001" and "'https://www.club.example/join'" in error.msg


def test_club_settings_name_logo_and_colour_show_on_every_page(client, db):
    ClubSettings.objects.create(name="Riverside Fitness", logo_url="https://cdn.club.example/logo.png",
                                colour="#7a1f3d")
    page = client.get("/portal/login").content.decode()
    assert "<title>Log in · Riverside Fitness</title>" in page
    assert 'style="--club: #7a1f3d"' in page and 'src="https://cdn.club.example/logo.png"' in page


def test_a_colour_too_light_for_white_text_is_refused_with_the_reason(db):
    with pytest.raises(ValidationError) as refused:
        ClubSettings(name="Club", colour="#ffd24d").full_clean()
    assert "hard to read" in str(refused.value) and "pick a darker colour" in str(refused.value)
    ClubSettings(name="Club", colour="#1d4f91").full_clean()


def test_the_admin_edits_the_one_row(manager_client):
    assert manager_client.get("/admin/clients/clubsettings/").status_code == 200
    saved = manager_client.post("/admin/clients/clubsettings/add/", {"name": "Riverside Fitness", "logo_url": "",
                                                                     "colour": "#204060"})
    assert saved.status_code == 302
    assert manager_client.get("/admin/clients/clubsettings/add/").status_code == 403  # one row only
    assert ClubSettings.objects.get().name == "Riverside Fitness"
    refused = manager_client.post("/admin/clients/clubsettings/1/change/", {
        "name": "Riverside Fitness", "logo_url": "http://cdn.club.example/logo.png", "colour": "#204060"})
    assert refused.status_code == 200 and "Give the logo&#x27;s https:// address." in refused.content.decode()


@pytest.mark.parametrize(("role", "status"), [("Manager", 200), ("Front desk", 403)])
def test_the_manager_role_edits_the_club_settings_and_the_front_desk_does_not(client, django_user_model, role,
                                                                               status):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("someone", password="pw-Someone-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    assert client.get("/admin/clients/clubsettings/add/").status_code == status
