"""The HTTP layer: retries where safe, backoff, Retry-After, pacing, error mapping, log lines."""

import logging

import pytest
import responses

from integrations.errors import AuthError, PermanentError, RateLimited, TransientError
from integrations.http import Pacer, VendorHTTP, retry_after_seconds

BASE = "https://vendor.test/"


@pytest.fixture
def http():
    sleeps: list[float] = []
    client = VendorHTTP(vendor="test", base_url=BASE, headers={"X-Key": "k-secret-1"},
                        secrets=["k-secret-1"], sleep=sleeps.append, backoff=0.5, max_attempts=4)
    client.sleeps = sleeps
    return client


@responses.activate
def test_get_is_retried_on_503_with_growing_jittered_backoff(http):
    responses.get(BASE + "x", status=503)
    responses.get(BASE + "x", status=503)
    responses.get(BASE + "x", json={"ok": True})
    assert http.request("GET", "x").json() == {"ok": True}
    assert len(http.sleeps) == 2
    assert 0 <= http.sleeps[0] <= 0.5 and 0 <= http.sleeps[1] <= 1.0


@responses.activate
def test_retry_after_is_honoured(http):
    responses.get(BASE + "x", status=429, headers={"Retry-After": "7"})
    responses.get(BASE + "x", json={})
    http.request("GET", "x")
    assert http.sleeps == [7.0]


@responses.activate
def test_a_retry_after_beyond_the_limit_raises_rate_limited(http):
    responses.get(BASE + "x", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimited) as raised:
        http.request("GET", "x")
    assert raised.value.retry_after == 3600


@responses.activate
def test_post_is_not_repeated_unless_marked_idempotent(http):
    responses.post(BASE + "x", status=503)
    with pytest.raises(TransientError):
        http.request("POST", "x")
    assert len(responses.calls) == 1


@responses.activate
def test_idempotent_post_is_retried(http):
    responses.post(BASE + "x", status=502)
    responses.post(BASE + "x", json={})
    http.request("POST", "x", idempotent=True)
    assert len(responses.calls) == 2


@responses.activate
def test_connection_errors_are_retried_then_transient(http):
    import requests

    responses.get(BASE + "x", body=requests.ConnectionError("refused"))
    with pytest.raises(TransientError):
        http.request("GET", "x")
    assert len(responses.calls) == 4


@responses.activate
@pytest.mark.parametrize("status, error", [(401, AuthError), (403, AuthError), (404, PermanentError),
                                           (400, PermanentError)])
def test_statuses_map_to_the_error_hierarchy(http, status, error):
    responses.get(BASE + "x", status=status, body="nope")
    with pytest.raises(error):
        http.request("GET", "x")


@responses.activate
def test_one_log_line_per_call_with_secrets_redacted(http, caplog):
    caplog.set_level(logging.DEBUG, logger="gatehouse.vendor")
    responses.get(BASE + "items", json={})
    http.request("GET", "items", params={"token": "k-secret-1", "page": 2})
    [line] = [r.getMessage() for r in caplog.records]
    assert "method=GET path=/items?token=***&page=2 status=200" in line
    assert "k-secret-1" not in line and "duration_ms=" in line


def test_pacer_holds_calls_to_the_rate():
    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    pacer = Pacer(10, burst=1, clock=lambda: now[0], sleep=sleep)
    for _ in range(11):
        pacer.wait()
    assert now[0] == pytest.approx(1.0)  # 11 calls at 10/s take one second


def test_retry_after_parses_seconds_and_dates():
    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds(None) is None


def test_proxy_and_ca_bundle_come_from_the_environment_read_once(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/club-ca.pem")
    for name in ("NO_PROXY", "no_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    vendor = VendorHTTP(vendor="test", base_url="https://vendor.test/api/")
    assert vendor.session.proxies.get("https") == "http://proxy.example:3128"
    assert vendor.session.verify == "/etc/ssl/club-ca.pem"
    monkeypatch.setenv("NO_PROXY", "vendor.test")
    assert "https" not in VendorHTTP(vendor="test", base_url="https://vendor.test/api/").session.proxies
