"""The HTTP layer: retries where safe, backoff, Retry-After, pacing, error mapping, log lines."""

import gzip
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses

from integrations.errors import AuthError, PermanentError, RateLimited, TransientError
from integrations.http import VendorHTTP, retry_after_seconds
from integrations.pacing import CallPool, Pacer

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


# VendorHTTP prepares and sends a call itself (not through Session.request): what the
# session did per call still happens.
@responses.activate
def test_a_cookie_the_vendor_sets_is_sent_back(http):
    responses.get(BASE + "login", json={}, headers={"Set-Cookie": "sid=abc; Path=/"})
    responses.get(BASE + "x", json={})
    http.request("GET", "login")
    http.request("GET", "x")
    assert responses.calls[1].request.headers["Cookie"] == "sid=abc"


@responses.activate
def test_a_redirect_is_followed(http):
    responses.get(BASE + "old", status=301, headers={"Location": BASE + "new"})
    responses.get(BASE + "new", json={"moved": True})
    response = http.request("GET", "old")
    assert response.json() == {"moved": True}
    assert [r.status_code for r in response.history] == [301]


@responses.activate
def test_call_headers_add_to_the_session_headers_and_none_drops_one(http):
    responses.get(BASE + "x", json={})
    responses.get(BASE + "y", json={})
    http.request("GET", "x", headers={"X-Other": "1"})
    http.request("GET", "y", headers={"X-Key": None})
    first, second = (call.request.headers for call in responses.calls)
    assert first["X-Key"] == "k-secret-1" and first["X-Other"] == "1"
    assert "X-Key" not in second


@responses.activate
def test_form_json_and_params_are_encoded_as_requests_encodes_them(http):
    responses.post(BASE + "form", json={})
    responses.post(BASE + "json", json={})
    http.request("POST", "form", data={"a": "1 2"}, params={"q": "x y"})
    http.request("POST", "json", json={"a": 1})
    form, body = (call.request for call in responses.calls)
    assert form.url == BASE + "form?q=x+y" and form.body == "a=1+2"
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert body.body == b'{"a": 1}' and body.headers["Content-Type"] == "application/json"


def test_an_option_requests_would_take_but_vendor_http_does_not_is_refused(http):
    with pytest.raises(TypeError, match="stream"):
        http.request("GET", "x", stream=True)


def test_over_http_calls_share_a_connection_pool_until_the_session_closes():
    from integrations.example.sandbox import API_KEY, ExampleSandbox
    from integrations.sandbox.transports import served

    with served(ExampleSandbox(members=1)) as url:
        vendor = VendorHTTP(vendor="test", base_url=url, headers={"X-Api-Key": API_KEY}, max_attempts=1)
        adapter = vendor.session.get_adapter(url)
        vendor.request("GET", "ping")
        vendor.request("GET", "ping")
        pools = adapter.poolmanager.pools
        [key] = pools.keys()
        pool = pools[key]
        vendor.session.close()  # the pool manager forgets its pools: later calls get a new one
        assert vendor.request("GET", "ping").json() == {"name": "Example Club"}
        assert pools.keys() == {key} and pools[key] is not pool


def test_a_429_to_one_caller_holds_every_caller_until_its_retry_after():
    slept = []
    pool = CallPool(rate=1000.0, in_flight=4, clock=lambda: 500.0,
                    sleep=lambda s: slept.append((threading.get_ident(), s)))
    told = threading.Thread(target=pool.pause, args=(2.0,))
    told.start()
    told.join()
    pool.wait()  # this thread was not told anything, and still waits
    assert slept == [(told.ident, 2.0), (threading.get_ident(), 2.0)]
    pool.wait()  # a pause is waited out once per caller
    assert len(slept) == 2 and pool.waits == 1


@responses.activate
def test_sessions_sharing_a_pool_redact_a_secret_one_of_them_learns_later(caplog):
    responses.get("https://vendor.test/token", status=500, body="no")
    pool = CallPool(rate=1000.0, sleep=lambda seconds: None, secrets=["key-123"])
    first, second = (VendorHTTP(vendor="v", base_url="https://vendor.test/", pool=pool, max_attempts=1)
                     for _ in range(2))
    pool.secret_add("tok-456")  # e.g. an access token the first session was just given
    with caplog.at_level(logging.INFO, logger="gatehouse.vendor"), pytest.raises(TransientError) as failed:
        second.request("GET", "token", params={"t": "tok-456", "k": "key-123"})
    assert "tok-456" not in str(failed.value) + caplog.text and "key-123" not in caplog.text
    assert first.secrets is second.secrets is pool.secrets


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every GET with the headers it was sent, gzip-encoded; /login also sets a cookie."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server's name
        body = gzip.compress(json.dumps(dict(self.headers.items())).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/login":
            self.send_header("Set-Cookie", "sid=abc; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_over_http_bodies_are_decoded_cookies_kept_and_header_changes_sent():
    """Over a real socket: the body arrives decoded, a cookie the vendor sets is sent back
    (and none is made up when it sets none), and a session header changed between calls
    (a new token) is what the next call sends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        vendor = VendorHTTP(vendor="test", base_url=f"http://127.0.0.1:{server.server_port}/",
                            headers={"Authorization": "Bearer one"}, max_attempts=1)
        first = vendor.request("GET", "ping").json()
        assert first["Authorization"] == "Bearer one" and "Cookie" not in first
        vendor.request("GET", "login")
        vendor.session.headers["Authorization"] = "Bearer two"
        after = vendor.request("GET", "ping", headers={"X-Call": "1"}).json()
        assert after["Authorization"] == "Bearer two" and after["Cookie"] == "sid=abc" and after["X-Call"] == "1"
        last = vendor.request("GET", "ping").json()
        assert last["Authorization"] == "Bearer two" and "X-Call" not in last
    finally:
        server.shutdown()
        server.server_close()
