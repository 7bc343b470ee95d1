"""Schemathesis against the OpenAPI schema: generated requests never get a server error.

Bounded (a fixed number of examples per operation, valid and invalid, plus the schema's
own examples), deterministic (derandomized, no example database) and in-process (WSGI).
Webhook cases are sent, about half the time, to a real Kisi integration and signed with
its secret, so that their bodies get past the signature, and those of the address-token
webhook to a real Perfect Gym integration's address; every operation that takes a body
also gets a fixed set of hostile bodies (deep nesting, NaN, huge numbers, not UTF-8).
"""

import hashlib
import hmac
import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from clients.tokens import member_tokens_issue
from config.wsgi import application
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET, PerfectGymSandbox
from integrations.sandbox.transports import mounted
from integrations.services import integration_save
from tests.api.helpers import member_create

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 30  # 9 operations: ~270 cases
WEBHOOK_PATH = "/api/v1/webhooks/{kind}/{integration_id}/"
TOKEN_WEBHOOK_PATH = "/api/v1/webhooks/{kind}/{integration_id}/{token}/"
KISI_SECRET = "kisi-whsec-schemathesis"
PG_URL = "https://pg.test/Api/v2.2/"
HOSTILE_BODIES = [
    b"[" * 3000 + b"]" * 3000, b'{"a": ' * 40 + b"1" + b"}" * 40, b'{"uuid": "u", "type": "lock.unlock", "x": NaN}',
    b'{"identifier": ' + b"9" * 5000 + b"}", b'{"identifier": "\xff"}', b"\xff\xfe", b"",
    b'{"uuid": "u-1", "type": "lock.unlock", "created_at": "0001-01-01T00:00:00+05:00"}',
    b'{"uuid": "u-2", "type": "lock.unlock", "created_at": "2019-01-01T00:00:00Z"}',
    rb'{"uuid": "u-3", "type": "lock.unlock", "actor_name": "\u0000"}', rb'{"identifier": "a\u0000", "password": "x"}',
    rb'{"uuid": "u-4", "type": "lock.unlock", "actor_name": "\ud800"}', rb'{"refresh": "\udfff"}',
]
# Kisi-shaped events, so that signed webhook bodies also reach the event id and its time.
KISI_EVENTS = st.fixed_dictionaries({
    "uuid": st.text(max_size=120), "type": st.sampled_from(["lock.unlock", "user.created", ""]),
    "created_at": st.one_of(st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
                            st.text(max_size=30), st.integers(), st.none()),
}, optional={"actor_id": st.one_of(st.integers(), st.text()), "object_id": st.integers(), "success": st.booleans()})


@pytest.fixture
def wsgi_app(settings):
    """The project's WSGI app, kept from closing the test's connection between requests."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": dict.fromkeys(
        ["login_ip", "login_identifier", "member_token", "token_refresh"], "10000/min")}
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def run_examples(schema, operation, member, kisi, perfectgym, seen: dict[str, set[int]]) -> None:
    """Send one operation's bounded examples; fail on an undocumented 5xx, with a curl line to replay it.

    Operations secured by the member token get a fresh valid token in about half the cases,
    and the address-token webhook the Perfect Gym integration's own address.
    """
    raw = operation.definition.raw
    for_members = any("memberToken" in requirement for requirement in raw.get("security", []))
    documented = {int(code) for code in raw.get("responses", {}) if code.isdigit()}
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE),
        *schema.get_strategies_from_examples(operation),
    )
    name = f"{operation.method.upper()} {operation.path}"

    def send(case, with_token, **kwargs):
        if with_token and operation.path == TOKEN_WEBHOOK_PATH and "data" not in kwargs:  # its valid credential
            kwargs = at_address(case, perfectgym, json.dumps(case.body, default=str).encode())
        headers = kwargs.pop("headers", {})
        if with_token and for_members:
            headers["Authorization"] = f"Bearer {member_tokens_issue(client=member).access}"
        response = case.call(headers=headers, **kwargs)
        seen.setdefault(name, set()).add(response.status_code)
        assert response.status_code < 500 or response.status_code in documented, case.as_curl_command()

    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy, with_token=st.booleans(), signed=st.sampled_from(["no", "generated", "kisi"]),
           event=KISI_EVENTS)
    def call(case, with_token, signed, event):
        if operation.path == WEBHOOK_PATH and signed != "no":
            body = json.dumps(event if signed == "kisi" else case.body, default=str).encode()
            send(case, False, **kisi_signed(case, kisi, body))
        else:
            send(case, with_token)

    call()
    if "requestBody" in raw:  # the hostile bodies, with a member token and (webhooks) a signature
        case = operation.Case(path_parameters={"door_id": 1}, media_type="application/json")
        for body in HOSTILE_BODIES:
            if operation.path == WEBHOOK_PATH:
                send(case, False, **kisi_signed(case, kisi, body))
            elif operation.path == TOKEN_WEBHOOK_PATH:
                send(case, False, **at_address(case, perfectgym, body))
            else:
                send(case, True, data=body, headers={"Content-Type": "application/json"})


def kisi_signed(case, kisi, body: bytes) -> dict:
    """Send `case` to the Kisi integration's webhook with `body`, signed as Kisi signs it."""
    case.path_parameters = {"kind": "kisi", "integration_id": kisi.pk}
    signature = hmac.new(KISI_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"data": body, "headers": {"X-Signature": signature, "Content-Type": "application/json"}}


def at_address(case, perfectgym, body: bytes) -> dict:
    """Send `case` to the Perfect Gym integration's webhook address (its token) with `body`."""
    case.path_parameters = {"kind": "perfectgym", "integration_id": perfectgym.pk,
                            "token": perfectgym.secrets()["webhook_token"]}
    return {"data": body, "headers": {"Content-Type": "application/json"}}


def test_no_generated_request_gets_a_server_error(wsgi_app):
    member = member_create(email="ada@example.com", password="correct horse")  # the schema's example login
    kisi = integration_save(kind="kisi", name="Kisi", settings={"base_url": "https://kisi.test/"},
                            secrets={"api_key": "k", "webhook_secret": KISI_SECRET})
    perfectgym = integration_save(kind="perfectgym", name="Perfect Gym", secrets={"client_secret": CLIENT_SECRET},
                                  settings={"base_url": PG_URL, "client_id": CLIENT_ID})
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/auth/login", "/api/v1/me", "/api/v1/auth/member-token"}
    seen: dict[str, set[int]] = {}

    with mounted((PerfectGymSandbox(members=5, base_url=PG_URL), PG_URL)):  # it checks member logins too
        for operation in operations:
            run_examples(schema, operation, member, kisi, perfectgym, seen)

    assert 200 in seen["POST /api/v1/auth/login"] and 401 in seen["POST /api/v1/auth/login"]
    assert 200 in seen["GET /api/v1/me"] and 401 in seen["GET /api/v1/me"]
    assert 400 in seen["POST /api/v1/auth/refresh"]
    assert {202, 400} <= seen[f"POST {WEBHOOK_PATH}"]  # signed events were read, some accepted
    assert {200, 400, 404} <= seen[f"POST {TOKEN_WEBHOOK_PATH}"]  # at its address, read; elsewhere, refused
