"""JSON bodies past the depth or size limit get a 400 (or 413) with a clear message, never a 500.

Python's json recurses once per level; 3,000 nested arrays raised RecursionError in the
API's parser and in the webhook receiver.
"""

import hashlib
import hmac
import io

import pytest
from rest_framework.exceptions import ParseError

from clients.tokens import member_tokens_issue
from config.json_input import BodyTooLarge, BoundedJSONParser, JsonRefused, json_depth, json_loads_bounded
from integrations.models import WebhookEvent
from integrations.services import integration_save
from tests.api.helpers import bearer, member_create
from tests.factories import DoorFactory

pytestmark = pytest.mark.django_db
DEEP = b"[" * 3000 + b"]" * 3000
TOO_DEEP = "The JSON nests too deep: at most 32 levels"
KISI_SECRET = "kisi-whsec-limits"


def post_json(client, url: str, body: bytes, **extra):
    return client.post(url, data=body, content_type="application/json", **extra)


def kisi_webhook(client, integration, body: bytes):
    signature = hmac.new(KISI_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return post_json(client, f"/api/v1/webhooks/kisi/{integration.pk}/", body, HTTP_X_SIGNATURE=signature)


@pytest.fixture
def kisi(db):
    return integration_save(kind="kisi", name="Kisi", settings={"base_url": "https://kisi.test/"},
                            secrets={"api_key": "k", "webhook_secret": KISI_SECRET})


@pytest.mark.parametrize("url", ["/api/v1/auth/refresh", "/api/v1/auth/member-token"])
def test_deep_json_to_the_login_endpoints_is_a_400_that_says_why(client, url):
    response = post_json(client, url, DEEP)
    assert response.status_code == 400 and response.json()["detail"].startswith(TOO_DEEP)


def test_deep_json_to_the_unlock_endpoint_is_a_400(client):
    door = DoorFactory()
    token = member_tokens_issue(client=member_create(email="ada@example.com")).access
    response = post_json(client, f"/api/v1/doors/{door.pk}/unlock", DEEP, HTTP_IDEMPOTENCY_KEY="tap-1",
                         **bearer(token))
    assert response.status_code == 400 and response.json()["detail"].startswith(TOO_DEEP)


def test_a_signed_deep_webhook_is_a_400_and_nothing_is_stored(client, kisi):
    response = kisi_webhook(client, kisi, DEEP)
    assert response.status_code == 400 and TOO_DEEP in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_a_signed_webhook_with_nan_is_a_400(client, kisi):
    response = kisi_webhook(client, kisi, b'{"uuid": "u-1", "type": "lock.unlock", "x": NaN}')
    assert response.status_code == 400 and "NaN is not a JSON number" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("text", [r"\u0000", r"a\ud800"])
def test_a_signed_webhook_with_text_no_database_stores_is_a_400(client, kisi, text):
    body = b'{"uuid": "u-2", "type": "lock.unlock", "actor_name": "' + text.encode() + b'"}'
    response = kisi_webhook(client, kisi, body)
    assert response.status_code == 400 and "cannot be stored" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_not(client, settings):
    settings.API_MAX_JSON_DEPTH = 4
    at_limit = post_json(client, "/api/v1/auth/refresh", b'{"refresh": [[["x"]]]}')
    over = post_json(client, "/api/v1/auth/refresh", b'{"refresh": [[[["x"]]]]}')
    assert at_limit.status_code == 400 and "refresh" in at_limit.json()  # read: the serializer answers
    assert over.status_code == 400 and over.json()["detail"].startswith("The JSON nests too deep: at most 4")


def test_brackets_inside_strings_do_not_count():
    text = '{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"}'
    assert json_depth(text) == 1
    assert json_loads_bounded(text)["a"].startswith("[[[")


def test_an_unterminated_string_hides_no_depth_from_json():
    assert json_depth('["' + '\\"' * 1000 + "[" * 100) == 1  # all one (unterminated) string to json too
    with pytest.raises(JsonRefused, match="not valid JSON"):
        json_loads_bounded('["' + '\\"' * 1000 + "[" * 100)


def test_the_parser_refuses_a_body_over_the_size_limit_even_without_a_content_length(settings):
    settings.API_MAX_BODY_BYTES = 100
    with pytest.raises(BodyTooLarge) as refused:
        BoundedJSONParser().parse(io.BytesIO(b'{"refresh": "' + b"x" * 200 + b'"}'))
    assert refused.value.status_code == 413
    with pytest.raises(ParseError, match="not UTF-8"):
        BoundedJSONParser().parse(io.BytesIO(b'{"refresh": "\xff"}'))
