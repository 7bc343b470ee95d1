"""The demo next to an operator's own integrations: it re-points only the integrations it
made, never renames or re-points theirs, and a taken port is one clear line."""

import socket

import pytest
from django.core.management import CommandError, call_command

from clients.credentials import client_password_check
from clients.models import Client
from integrations.demo import DEMO_MEMBER, demo_club_load
from integrations.demo_vendors import demo_integrations_ensure, demo_sandboxes_start, demo_sandboxes_stop
from integrations.models import Integration
from integrations.sandbox.transports import free_port, free_ports
from integrations.services import integration_save

pytestmark = pytest.mark.django_db
OPERATOR_URL = "https://club.perfectgym.com/Api/v2.2/"


@pytest.fixture
def sandboxes(settings):
    settings.INTEGRATION_ALLOW_HTTP = True  # the sandboxes listen on loopback
    demo_club_load(clients=5)
    running = demo_sandboxes_start(base_port=free_ports(5))
    yield running
    demo_sandboxes_stop(running)


def operator_pg(name: str) -> Integration:
    settings = {"base_url": OPERATOR_URL, "client_id": "ours", "identity_type": None, "sync_members": True,
                "member_minutes": 10, "sync_swipes": True, "swipe_minutes": 5, "attendance_minutes": 30}
    return integration_save(kind="perfectgym", name=name, settings=settings, secrets={"client_secret": "s"})


def test_a_restart_re_points_the_demos_own_and_leaves_the_operators_alone(sandboxes):
    first = demo_integrations_ensure(sandboxes=sandboxes)
    ours = [operator_pg("Perfect Gym (sandbox) 2"), operator_pg("Perfect Gym Leeds")]
    Integration.objects.filter(pk=first["perfectgym"].pk).update(name="PG demo, renamed by hand")
    again = demo_integrations_ensure(sandboxes=sandboxes)
    assert again["perfectgym"].pk == first["perfectgym"].pk
    assert Integration.objects.get(pk=first["perfectgym"].pk).name == "PG demo, renamed by hand"
    for integration in ours:
        integration.refresh_from_db()
        assert integration.settings["base_url"] == OPERATOR_URL and not integration.is_demo
    assert Integration.objects.filter(kind="perfectgym").count() == 3


def test_the_operators_integration_holding_the_demos_name_is_not_taken(sandboxes):
    theirs = operator_pg("Perfect Gym (sandbox)")
    made = demo_integrations_ensure(sandboxes=sandboxes)
    assert made["perfectgym"].name == "Perfect Gym (sandbox) 2" and made["perfectgym"].is_demo
    theirs.refresh_from_db()
    assert theirs.settings["base_url"] == OPERATOR_URL and theirs.name == "Perfect Gym (sandbox)"


def test_a_vendor_allowing_one_integration_sits_the_demo_out_when_the_operator_has_it(sandboxes):
    theirs = integration_save(kind="glofox", name="Our Glofox", settings={"base_url": "https://glofox.test/"},
                              secrets={"api_key": "k", "api_token": "t", "webhook_secret": "w"})
    told = []
    made = demo_integrations_ensure(sandboxes=sandboxes, echo=told.append)
    assert "glofox" not in made and "perfectgym" in made
    assert told == ["Glofox: left out; your own Glofox integration is the only one allowed."]
    theirs.refresh_from_db()
    assert theirs.settings["base_url"] == "https://glofox.test/"


def test_the_demo_member_logs_in_with_the_printed_password():
    demo_club_load(clients=5)
    demo_club_load(clients=5)  # loading again keeps one member, and the password still works
    member = client_password_check(identifier=DEMO_MEMBER[0], password=DEMO_MEMBER[1])
    assert member is not None and member.packages.count() == 2
    assert Client.objects.filter(email=DEMO_MEMBER[0]).count() == 1


@pytest.mark.parametrize("which", ["sandbox", "web"])
def test_a_taken_port_is_one_line_naming_the_options(which):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        ports = {"sandbox": ["--port", str(free_port()), "--sandbox-port", str(taken)],
                 "web": ["--port", str(taken), "--sandbox-port", str(free_ports(5))]}[which]
        with pytest.raises(CommandError) as refused:
            call_command("demo_serve", *ports)
    message = str(refused.value)
    assert "\n" not in message and f"Port {taken} " in message
    named = ["--sandbox-port", "PORT="] if which == "sandbox" else ["PORT=", "--port"]
    assert all(option in message for option in named)
