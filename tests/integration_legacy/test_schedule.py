"""The beat job runs the sources whose interval has passed; the command runs them now."""

import sqlite3
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.beat import BEAT_SCHEDULE
from integration.models import LegacySource, LegacySyncRun
from integration.services.legacy_sync import legacy_source_create, legacy_sources_due
from integration.tasks import legacy_sync_due
from planning.models import ProductionOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def mes(plant, tmp_path):
    db = tmp_path / "mes.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE wo (id INTEGER PRIMARY KEY, external_ref, item, quantity, due_date)"
        )
        conn.execute("INSERT INTO wo VALUES (1, 'W1', 'EB-500', 5, '2026-12-20')")
        conn.execute("INSERT INTO wo VALUES (2, 'W2', 'EB-501', 5, '2026-12-20')")
    return legacy_source_create(
        name="mes",
        kind=LegacySource.Kind.DATABASE,
        target=LegacySource.Target.PRODUCTION_ORDERS,
        url=f"sqlite:///{db}",
        query="SELECT * FROM wo",
        watermark_column="id",
    )


def test_the_beat_runs_each_source_every_interval(mes, pinned_now):
    assert BEAT_SCHEDULE["legacy-sync"]["task"] == "integration.tasks.legacy_sync_due"
    assert mes.interval_minutes == 30
    assert legacy_sync_due() == [mes.pk]
    run = LegacySyncRun.objects.get()
    assert (run.trigger, run.status, run.rows_accepted) == ("schedule", "done", 1)

    pinned_now.shift(timedelta(minutes=29))
    assert legacy_sync_due() == []
    pinned_now.shift(timedelta(minutes=1))
    assert legacy_sync_due() == [mes.pk]
    assert LegacySyncRun.objects.count() == 2

    LegacySource.objects.filter(pk=mes.pk).update(interval_minutes=120)
    pinned_now.shift(timedelta(minutes=60))
    assert legacy_sources_due(now=timezone.now()) == []
    LegacySource.objects.filter(pk=mes.pk).update(active=False)
    pinned_now.shift(timedelta(hours=3))
    assert legacy_sync_due() == []


def test_the_command_runs_now_and_prints_the_rejected_rows(mes):
    out = StringIO()
    call_command("legacy_sync", "--source", "mes", stdout=out)
    text = out.getvalue()
    assert "mes: done; 2 read, 1 taken, 1 rejected; watermark 2" in text
    assert "watermark 2 [item]: No item 'EB-501'." in text
    assert ProductionOrder.objects.count() == 1
    out = StringIO()
    call_command("legacy_sync", stdout=out)
    assert "mes: done; 0 read" in out.getvalue()


def test_the_command_names_an_unknown_source(mes):
    with pytest.raises(CommandError, match="No legacy source 'erp' \\(known: mes\\)"):
        call_command("legacy_sync", "--source", "erp")


def test_the_command_fails_when_a_run_fails(mes, tmp_path):
    (tmp_path / "mes.sqlite").unlink()
    LegacySource.objects.filter(pk=mes.pk).update(query="SELECT * FROM missing_table")
    err = StringIO()
    with pytest.raises(CommandError, match="1 run\\(s\\) failed"):
        call_command("legacy_sync", stdout=StringIO(), stderr=err)
    assert "missing_table" in err.getvalue()
