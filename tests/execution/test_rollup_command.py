"""`manage.py progress_rollup`: the roll-up on demand (make run calls it after the demo)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from core.models import OutboxEvent
from execution.models import ProgressSnapshot
from execution.services.progress import DELAY_TOPIC

pytestmark = pytest.mark.django_db


def test_the_command_rolls_up_and_a_rerun_adds_nothing(demo_plant):
    at = "2026-11-26T10:20:00+08:00"
    out = StringIO()
    call_command("progress_rollup", "--at", at, stdout=out)
    assert "progress roll-up" in out.getvalue() and "delays announced" in out.getvalue()
    snapshots = ProgressSnapshot.objects.count()
    announced = OutboxEvent.objects.filter(topic=DELAY_TOPIC).count()
    assert snapshots > 0
    again = StringIO()
    call_command("progress_rollup", "--at", "2026-11-26T10:50:00+08:00", stdout=again)
    assert "0 snapshots new" in again.getvalue()
    assert ProgressSnapshot.objects.count() == snapshots
    assert OutboxEvent.objects.filter(topic=DELAY_TOPIC).count() == announced


def test_a_bad_instant_is_refused_with_its_name(demo_plant):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--at: '10:20' is not an ISO 8601 instant"):
        call_command("progress_rollup", "--at", "10:20")
    month_13 = "2026-13-01T10:00:00+08:00"  # the right shape, no such day: no traceback
    with pytest.raises(
        CommandError, match=re.escape(f"--at: '{month_13}' is not an ISO 8601 instant")
    ):
        call_command("progress_rollup", "--at", month_13)
