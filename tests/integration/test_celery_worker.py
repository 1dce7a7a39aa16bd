"""A Celery task really runs in a separate worker process, through the configured broker.

On CI the broker is Redis (REDIS_URL) and the database PostgreSQL; locally the embedded
SQLite broker and database. The worker is pointed at the test database and listens on a
queue of its own, so no other worker can take the task.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from resources.models import Item
from tests.factories import BomFactory, BomLineFactory, ItemFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def database_url_for_test_db() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    return (
        f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture
def worker(tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url_for_test_db(),
    }
    if not settings.REDIS_URL:
        # A broker file of the test's own, so a running `make run` worker cannot take the task.
        env["CELERY_BROKER_URL"] = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
        env["CELERY_RESULT_BACKEND"] = f"db+sqlite:///{tmp_path / 'results.sqlite'}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--hostname",
            f"{queue}@localhost",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # A client app on the same broker; the task is sent by name, as the web process does.
    client = Celery(
        "test-client",
        broker=env.get("CELERY_BROKER_URL", settings.CELERY_BROKER_URL),
        backend=env.get("CELERY_RESULT_BACKEND", settings.CELERY_RESULT_BACKEND),
    )
    try:
        yield client, queue
    finally:
        client.close()
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        print(out[-4000:])


def test_task_executes_in_the_worker(worker):
    client, queue = worker

    top, mid, leaf = ItemFactory(code="TOP"), ItemFactory(code="MID"), ItemFactory(code="LEAF")
    BomLineFactory(bom=BomFactory(item=top), component=mid)
    BomLineFactory(bom=BomFactory(item=mid), component=leaf)
    assert Item.objects.get(code="LEAF").low_level_code == 0  # nothing computed it yet

    result = client.send_task("planning.tasks.bom_low_level_codes_refresh", queue=queue)
    assert result.get(timeout=90) == 2  # the worker's return value, through the result store

    deadline = time.monotonic() + 30
    while Item.objects.get(code="LEAF").low_level_code != 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dict(Item.objects.values_list("code", "low_level_code")) == {
        "TOP": 0,
        "MID": 1,
        "LEAF": 2,
    }
