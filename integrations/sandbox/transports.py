"""The two transports of a sandbox: a threaded WSGI server and a `responses` mount."""

import contextlib
import random
import re
import socket
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import unquote, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests

from integrations.sandbox.base import Sandbox, SandboxRequest


def wsgi_app(sandbox: Sandbox, base_path: str = "/"):
    """A WSGI application answering for `sandbox` under `base_path`."""

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(base_path):
            path = path[len(base_path):]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        request = SandboxRequest(
            method=environ["REQUEST_METHOD"], path=path.lstrip("/"),
            query=sandbox.parse_query(environ.get("QUERY_STRING", "")), headers=headers,
            body=environ["wsgi.input"].read(length) if length else b"",
        )
        response = sandbox.handle(request)
        body = response.encoded()
        head = [("Content-Type", response.content_type), ("Content-Length", str(len(body)))]
        head += list(response.headers.items())
        start_response(f"{response.status} {_reason(response.status)}", head)
        return [body]

    return app


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Vendor Status"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with persistent connections, as a vendor's production server keeps them
    (many calls on one connection, not a connection and a server thread per call), each
    request handed to the sandbox as wsgi_app hands it, without the WSGI layer's cost."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # The status line and headers, then the body: without this, Nagle holds the body ~40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass

    def _answer(self):
        sandbox: Sandbox = self.server.sandbox
        path, _, query = self.path.partition("?")
        headers: dict[str, str] = {}
        for name, value in self.headers.items():  # named as wsgi_app names them
            key = "Content-Type" if name.lower() == "content-type" else name.replace("_", "-").title()
            if name.lower() != "content-length":
                headers[key] = f"{headers[key]},{value.strip()}" if key in headers else value.strip()
        length = int(self.headers.get("Content-Length") or 0)
        request = SandboxRequest(
            method=self.command, path=unquote(path, "iso-8859-1").lstrip("/"), query=sandbox.parse_query(query),
            headers=headers, body=self.rfile.read(length) if length else b"",
        )
        response = sandbox.handle(request)
        body = response.encoded()
        self.send_response(response.status, _reason(response.status))
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


class _KeepAliveServer(ThreadingMixIn, HTTPServer):
    daemon_threads = True

    def __init__(self, address, sandbox: Sandbox):
        self.sandbox = sandbox
        super().__init__(address, _KeepAliveHandler)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def free_port() -> int:
    """A loopback port nobody listens on now (for a sandbox, a test server, a benchmark)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> int:
    """The first of `count` consecutive loopback ports nobody listens on (the demo's sandboxes
    take five in a row). They are chosen below the kernel's ephemeral range, so no outgoing
    connection (to PostgreSQL, to a sandbox) can take one between this answer and the bind."""
    low = _ephemeral_low()
    for _ in range(200):
        first = random.randrange(max(1024, low - 12000), low - count)
        try:
            with contextlib.ExitStack() as stack:
                for port in range(first, first + count):
                    stack.enter_context(socket.socket()).bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError(f"no {count} free ports in a row")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def serve(sandbox: Sandbox, *, port: int, host: str = "127.0.0.1", quiet: bool = True):
    """Start serving `sandbox` in a background thread; returns the server (call shutdown()).
    A sandbox whose `keep_alive` is set keeps connections open (HTTP/1.1), quietly."""
    if sandbox.keep_alive:
        server = _KeepAliveServer((host, port), sandbox)
    else:
        server = make_server(host, port, wsgi_app(sandbox), server_class=_ThreadingServer,
                             handler_class=_QuietHandler if quiet else WSGIRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def mount(sandbox: Sandbox, responses_mock, base_url: str) -> None:
    """Answer every call under `base_url` from `sandbox` inside a `responses` mock."""
    base = urlsplit(base_url)
    base_path = base.path if base.path.endswith("/") else base.path + "/"

    def callback(prepared):
        parts = urlsplit(prepared.url)
        path = parts.path[len(base_path):] if parts.path.startswith(base_path) else parts.path
        body = prepared.body or b""
        request = SandboxRequest(
            method=prepared.method, path=path.lstrip("/"), query=sandbox.parse_query(parts.query),
            headers=dict(prepared.headers), body=body.encode() if isinstance(body, str) else body,
        )
        timeout = getattr(prepared, "req_kwargs", {}).get("timeout")
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        try:
            response = sandbox.handle(request, timeout=read_timeout)
        except TimeoutError as error:
            raise requests.ReadTimeout(str(error)) from None
        headers = dict(response.headers)
        headers["Content-Type"] = response.content_type
        return response.status, headers, response.encoded()

    pattern = re.compile(re.escape(f"{base.scheme}://{base.netloc}{base_path}") + ".*")
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        responses_mock.add_callback(method, pattern, callback=callback, content_type=None)


@contextlib.contextmanager
def mounted(*sandboxes: tuple[Sandbox, str]) -> Iterator[object]:
    """For the block, answer every call under each base URL from its sandbox:
    `with mounted((fake, "https://vendor.test/api/")):`. Yields the `responses` mock."""
    import responses  # tests only: production serves sandboxes over HTTP

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for sandbox, base_url in sandboxes:
            mount(sandbox, mock, base_url)
        yield mock


@contextlib.contextmanager
def served(sandbox: Sandbox, *, port: int = 0) -> Iterator[str]:
    """For the block, serve `sandbox` over real HTTP on loopback (a free port unless
    given); yields its base URL."""
    server = serve(sandbox, port=port)
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
