"""Schemathesis against the OpenAPI schema: generated requests never get a server error.

Bounded (a fixed number of examples per operation, valid and invalid, plus the schema's
own examples), deterministic (derandomized, no example database) and in-process (WSGI).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from clients.tokens import member_tokens_issue
from config.wsgi import application
from tests.api.helpers import member_create

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 30  # 8 operations: ~240 cases


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


def run_examples(schema, operation, member, seen: dict[str, set[int]]) -> None:
    """Send one operation's bounded examples; fail on an undocumented 5xx, with a curl line to replay it.

    Operations secured by the member token get a fresh valid token in about half the cases.
    """
    raw = operation.definition.raw
    for_members = any("memberToken" in requirement for requirement in raw.get("security", []))
    documented = {int(code) for code in raw.get("responses", {}) if code.isdigit()}
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE),
        *schema.get_strategies_from_examples(operation),
    )

    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy, with_token=st.booleans())
    def call(case, with_token):
        headers = {}
        if with_token and for_members:
            headers["Authorization"] = f"Bearer {member_tokens_issue(client=member).access}"
        response = case.call(headers=headers)
        seen.setdefault(f"{operation.method.upper()} {operation.path}", set()).add(response.status_code)
        assert response.status_code < 500 or response.status_code in documented, case.as_curl_command()

    call()


def test_no_generated_request_gets_a_server_error(wsgi_app):
    member = member_create(email="ada@example.com", password="correct horse")  # the schema's example login
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/auth/login", "/api/v1/me", "/api/v1/auth/member-token"}
    seen: dict[str, set[int]] = {}

    for operation in operations:
        run_examples(schema, operation, member, seen)

    assert 200 in seen["POST /api/v1/auth/login"] and 401 in seen["POST /api/v1/auth/login"]
    assert 200 in seen["GET /api/v1/me"] and 401 in seen["GET /api/v1/me"]
    assert 400 in seen["POST /api/v1/auth/refresh"]
