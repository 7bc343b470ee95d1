"""Bad input at every door of the API: a clear error, a log line, nothing written."""

import logging

import pytest

from clients.models import MemberToken
from integrations.models import WebhookEvent

pytestmark = pytest.mark.django_db


def login(client, body: bytes):
    return client.post("/api/v1/auth/login", data=body, content_type="application/json")


def test_wrong_types_get_field_errors(client):
    answer = login(client, b'{"identifier": 5, "password": []}')
    assert answer.status_code == 400 and "Not a valid string." in answer.json()["password"][0]


def test_unknown_fields_are_named_and_refused(client):
    answer = login(client, b'{"identifier": "a@example.com", "password": "x", "remember_me": true}')
    assert answer.status_code == 400
    assert answer.json() == {"remember_me": ["Unknown field: this endpoint does not take it."]}
    assert not MemberToken.objects.exists()


def test_a_huge_body_is_refused_before_it_is_read(client, caplog):
    caplog.set_level(logging.WARNING, logger="gatehouse.api")
    answer = login(client, b"{" + b" " * 3_000_000 + b"}")
    assert answer.status_code == 413 and "too large" in answer.json()["error"]
    assert "refused: body of" in caplog.text


def test_not_json_is_a_clear_400(client):
    answer = login(client, b"identifier=me")
    assert answer.status_code == 400 and answer.json()["detail"].startswith("The request body is not valid JSON")


def test_a_huge_webhook_is_refused_and_nothing_stored(client):
    answer = client.post("/api/v1/webhooks/kisi/1/", data=b"[" + b"1," * 700_000 + b"1]",
                         content_type="application/json")
    assert answer.status_code == 413
    assert not WebhookEvent.objects.exists()
