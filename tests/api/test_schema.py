"""The OpenAPI schema validates, covers the member app and webhooks, and its docs need no CDN."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db
OPERATIONS = {
    ("/api/v1/auth/login", "post"), ("/api/v1/auth/member-token", "post"), ("/api/v1/auth/refresh", "post"),
    ("/api/v1/auth/logout", "post"), ("/api/v1/me", "get"), ("/api/v1/webhooks/{kind}/{integration_id}/", "post"),
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))  # raises on a warning
    return yaml.safe_load(path.read_text())


def test_the_schema_covers_the_member_app_and_webhooks_with_examples(schema):
    found = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert OPERATIONS <= found
    for path, method in OPERATIONS - {("/api/v1/auth/logout", "post")}:
        operation = schema["paths"][path][method]
        examples = [content.get("examples") for part in (operation.get("requestBody", {}),
                                                          *operation["responses"].values())
                    for content in part.get("content", {}).values()]
        assert any(examples), f"{method.upper()} {path} has no example"


def test_member_endpoints_declare_the_bearer_scheme(schema):
    assert schema["components"]["securitySchemes"]["memberToken"] == {
        "type": "http", "scheme": "bearer", "description": "An access token from POST /api/v1/auth/login "
        "(15 minutes)."}
    assert schema["paths"]["/api/v1/me"]["get"]["security"] == [{"memberToken": []}]
    assert schema["paths"]["/api/v1/auth/login"]["post"]["security"] == [{}]


def test_the_schema_is_served(client):
    answer = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert answer.status_code == 200 and "/api/v1/auth/login" in answer.json()["paths"]


def test_the_docs_page_uses_the_packaged_swagger_ui_only(client):
    page = client.get("/api/docs/").content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    assert all(a.startswith(("/static/", "/api/")) for a in assets if "swagger" in a or a.endswith(".css"))
    assert "cdn" not in page.lower() and "https://" not in "".join(assets)
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{asset}"), asset


def test_the_login_documents_the_device_id_and_the_503(schema):
    login = schema["paths"]["/api/v1/auth/login"]["post"]
    name = login["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    device = schema["components"]["schemas"][name]["properties"]["device_id"]

    assert (device["minLength"], device["maxLength"]) == (16, 128) and "once per installation" in device["description"]
    assert "device_id" not in schema["components"]["schemas"][name].get("required", [])
    assert "Retry-After" in login["responses"]["503"]["description"]
