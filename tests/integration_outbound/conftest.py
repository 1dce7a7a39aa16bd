"""A real webhook receiver on 127.0.0.1 (http.server in a thread) for the outbound tests."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from core.roles import Role
from integration.models import Subscription
from integration.services.outbound import subscription_create
from tests.factories import UserFactory

SECRET = "s3cret-for-tests-0123456789"


@dataclass
class Received:
    path: str
    headers: object  # http.client.HTTPMessage: names are case-insensitive
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers each path with the status set in `answers` (200 by
    default). Keeps the event ids it has seen, as an idempotent receiver would."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def ids(self, path: str) -> list[str]:
        return [r.headers["X-ClosedLoop-Event-Id"] for r in self.at(path)]


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.received.append(Received(self.path, self.headers, body))  # case-blind
                code = state.answers.get(self.path, 200)
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self):  # noqa: N802 (where a followed redirect would land)
            with state.lock:
                state.received.append(Received(self.path, self.headers, b""))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def subscribe(db, receiver):
    def make(name: str, path: str, topics=("*",), **extra) -> Subscription:
        return subscription_create(
            name=name, url=receiver.url(path), secret=SECRET, topics=list(topics), **extra
        )

    return make


@pytest.fixture
def api(db):
    def make(*roles) -> APIClient:
        client = APIClient()
        client.force_authenticate(UserFactory(roles=list(roles)))
        return client

    return make


INTEG = Role.INTEGRATION
OPERATOR = Role.OPERATOR
