"""Settings come from the environment; production mode is hardened."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the subprocesses below read is the settings module alone: importing it (through
# django.conf.settings) without django.setup() skips loading every app, ten times faster.
SETTINGS_ONLY = "import django;"


def manage(*args, **env):
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True
    )


def test_production_refuses_to_start_without_secret_key():
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings_production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_passes_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings_production",
        SECRET_KEY="k" * 20 + "Zq8#v!2mN0pL7xR4tY6wB9cD1eF3gH5jK",
        ALLOWED_HOSTS="plant.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_read_from_environment():
    code = (
        "from django.conf import settings as s;"
        "print(s.TIME_ZONE, s.LANGUAGE_CODE, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"{SETTINGS_ONLY}{code}"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "TIME_ZONE": "Europe/Berlin",
            "LANGUAGE_CODE": "de",
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == [
        "Europe/Berlin",
        "de",
        "django.db.backends.postgresql",
        "redis://127.0.0.1:6379/3",
    ], result.stderr


def settings_values(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", f"import django;django.setup();{code}"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
    )


def test_shop_floor_settings_read_from_environment():
    code = (
        "from django.conf import settings as s;"
        "from execution.services.material import issue_tolerance;"
        "from execution.services.alerts import transfer_minutes;"
        "print(s.EXECUTION_ISSUE_TOLERANCE_PCT, issue_tolerance(), transfer_minutes())"
    )
    result = settings_values(
        code, EXECUTION_ISSUE_TOLERANCE_PCT="5.5", EXECUTION_TRANSFER_MINUTES="45"
    )
    assert result.stdout.split() == ["5.5", "0.055", "45"], result.stderr
    for name, bad in (
        ("EXECUTION_ISSUE_TOLERANCE_PCT", "two"),
        ("EXECUTION_TRANSFER_MINUTES", "-5"),
    ):
        refused = settings_values("pass", **{name: bad})
        assert refused.returncode != 0 and f"{name}={bad!r}" in refused.stderr


def test_embedded_default_needs_no_server():
    code = "from django.conf import settings as s; print(s.CELERY_BROKER_URL)"
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "-c", f"{SETTINGS_ONLY}{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip().startswith("sqla+sqlite:///")


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    """The board's progress query crossed jit_above_cost and spent half its time compiling
    (bench/README.md): the app's connections turn JIT off."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_database_timeouts_read_from_environment():
    code = (
        "from django.conf import settings as s; o = s.DATABASES['default']['OPTIONS'];"
        "print(o['connect_timeout'], '|', o['options'])"
    )
    postgres = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    unset = {"DB_CONNECT_TIMEOUT", "DB_STATEMENT_TIMEOUT_MS", "PG_JIT"}
    defaults = subprocess.run(
        [sys.executable, "-c", f"import django;django.setup();{code}"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in unset},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **postgres,
        },
        capture_output=True,
        text=True,
    )
    assert defaults.stdout.strip() == "5 | -c jit=off -c statement_timeout=30000", defaults.stderr
    chosen = settings_values(
        code, **postgres, DB_CONNECT_TIMEOUT="3", DB_STATEMENT_TIMEOUT_MS="0", PG_JIT="on"
    )
    assert chosen.stdout.strip() == "3 | -c jit=on -c statement_timeout=0", chosen.stderr
    for name, bad in (("DB_CONNECT_TIMEOUT", "0"), ("DB_STATEMENT_TIMEOUT_MS", "soon")):
        refused = settings_values("pass", **postgres, **{name: bad})
        assert refused.returncode != 0 and f"{name}={bad!r}" in refused.stderr


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_connections_carry_the_statement_timeout():
    """The server cancels a statement that runs past DB_STATEMENT_TIMEOUT_MS (30 s unless set)."""
    from django.conf import settings
    from django.db import connection

    options = settings.DATABASES["default"]["OPTIONS"]["options"]
    configured = options.split("statement_timeout=")[1].split()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        assert cursor.fetchone()[0] == configured


def test_the_demo_language_reads_from_the_environment_and_refuses_an_unknown_one():
    def run(**env):
        return subprocess.run(
            [
                sys.executable,
                "-c",
                SETTINGS_ONLY + "from django.conf import settings as s;print(s.DEMO_LANGUAGE)",
            ],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
            capture_output=True,
            text=True,
        )

    assert run(DEMO_LANGUAGE="en").stdout.split() == ["en"]
    refused = run(DEMO_LANGUAGE="fr")
    assert refused.returncode != 0 and "DEMO_LANGUAGE must be one of en, zh-hans" in refused.stderr
