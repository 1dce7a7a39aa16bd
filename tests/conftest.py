import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` run only where the database is PostgreSQL (CI)."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); .ci/run does")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness is for real logins, not for creating demo users 100 times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def celery_eager(settings):
    """Unit tests run tasks in-process; tests/integration start a real worker instead."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def demo_plant(db, django_db_blocker):
    """The demo plant as `make run` loads it."""
    from django.core.management import call_command

    call_command("load_demo", "--quiet-logins", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
