"""Production serving, for real: the web line of Procfile.production (collectstatic, then
gunicorn) under config.settings_production, asked over HTTP as a browser behind the TLS proxy
asks (X-Forwarded-Proto: https) and as a load balancer probes (plain HTTP).

On CI the database is PostgreSQL, locally SQLite; the server uses the test database, so the
tests run with transaction=True (the server must see committed tables).
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from html.parser import HTMLParser
from pathlib import Path

import pytest
from honcho.environ import parse_procfile

from tests.core.test_healthz import silent_database
from tests.integration.test_celery_worker import database_url_for_test_db

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "Procfile.production"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def procfile_command(name: str) -> str:
    """The Procfile's command for `name`, run with the virtualenv of this interpreter."""
    command = parse_procfile(PROCFILE.read_text()).processes[name]
    return command.replace(".venv/bin/", f"{Path(sys.executable).parent}/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def production_web(tmp_path: Path, **env: str) -> Iterator[str]:
    """Start the web process as Procfile.production does; yield its base URL; always stop it
    (its whole process group: the shell, gunicorn's master and its workers)."""
    port = free_port()
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "WEB_CONCURRENCY"}
    }
    full_env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url_for_test_db(),
        STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="2",
    )
    full_env.update(env)
    log_path = tmp_path / "web.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", procfile_command("web")],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120  # collectstatic compresses every file first
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the web process exited ({proc.returncode}):\n{log_path.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not listen in time:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # gunicorn's workers may outlive the master by a moment; none may outlive the test.
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        print(log_path.read_text()[-4000:])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at, not to follow


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, *, behind_tls_proxy: bool = True) -> tuple[int, dict, bytes]:
    headers = {"X-Forwarded-Proto": "https"} if behind_tls_proxy else {}
    try:
        with _opener.open(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class _Assets(HTMLParser):
    """The URLs a page makes the browser load: scripts, stylesheets, icons, images."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"script", "img"} and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def assets(html: bytes) -> list[str]:
    parser = _Assets()
    parser.feed(html.decode())
    return parser.urls


def test_every_production_process_runs_with_the_production_settings():
    processes = parse_procfile(PROCFILE.read_text()).processes
    assert set(processes) == {"web", "worker", "beat"}
    for command in processes.values():
        assert "DJANGO_SETTINGS_MODULE=config.settings_production" in command
    assert "collectstatic --noinput" in processes["web"]
    assert "gunicorn config.wsgi" in processes["web"]


def test_pages_static_files_api_docs_and_health_under_gunicorn(tmp_path):
    with production_web(tmp_path) as base:
        # The login page, as the browser gets it through the TLS proxy.
        code, headers, page = fetch(f"{base}/accounts/login/")
        assert code == 200 and headers["Content-Type"].startswith("text/html")
        assert b'name="password"' in page

        # Its htmx and stylesheet, hashed by collectstatic and served by WhiteNoise.
        urls = assets(page)
        htmx = [u for u in urls if "htmx" in u]
        assert htmx and all(
            re.fullmatch(r"/static/django_htmx/htmx-2\.min\.[0-9a-f]{12}\.js", u) for u in htmx
        ), urls
        for url in urls:
            code, headers, body = fetch(base + url)
            assert code == 200, url
            assert "immutable" in headers["Cache-Control"], (url, headers)
        code, headers, body = fetch(base + htmx[0])
        assert headers["Content-Type"].startswith("text/javascript"), headers
        assert b"htmx" in body[:2000]

        # Without the proxy's header the same page redirects to HTTPS: the production
        # settings are the ones in force.
        code, headers, _ = fetch(f"{base}/accounts/login/", behind_tls_proxy=False)
        assert code == 301 and headers["Location"].startswith("https://127.0.0.1:")

        # The API docs load only files of this server, and the schema they point at.
        code, headers, docs = fetch(f"{base}/api/docs/")
        assert code == 200 and headers["Content-Type"].startswith("text/html")
        assert b"http://" not in docs and b"https://" not in docs
        assert b'"validatorUrl": null' in docs  # no badge fetched from swagger.io
        docs_assets = assets(docs)
        assert len(docs_assets) >= 3, docs_assets  # Swagger UI's css, bundle and preset
        for url in docs_assets:
            assert url.startswith("/static/drf_spectacular_sidecar/"), url
            code, _, _ = fetch(base + url)
            assert code == 200, url
        # ... in the reader's language (the template writes the URL with escapejs).
        schema_url = json.loads(b'"%s"' % re.search(rb'url: "([^"]+)"', docs).group(1))
        assert schema_url == "/api/schema/?lang=en"
        code, headers, schema = fetch(base + schema_url)
        assert code == 200 and schema.startswith(b"openapi: 3"), schema[:200]

        # The load balancer's probe: plain HTTP, no proxy header, no redirect.
        code, headers, body = fetch(f"{base}/healthz", behind_tls_proxy=False)
        assert code == 200, body
        assert json.loads(body)["database"] == "ok"


def test_a_database_that_never_answers_is_503_within_seconds(tmp_path):
    """Before the connect timeout, gunicorn killed the waiting worker after 30 s: a 500."""
    with (
        silent_database() as (port, accepted),
        production_web(
            tmp_path,
            DATABASE_URL=f"postgres://closedloop@127.0.0.1:{port}/closedloop",
            DB_CONNECT_TIMEOUT="2",
        ) as base,
    ):
        started = time.monotonic()
        code, _, body = fetch(f"{base}/healthz", behind_tls_proxy=False)
        elapsed = time.monotonic() - started
        assert accepted, "the server never tried the database"
    assert (code, json.loads(body)) == (503, {"status": "down", "database": "unavailable"})
    assert 2 <= elapsed < 10, elapsed
