"""`manage.py b2mml_export` and `b2mml_import`: documents to and from files, exit codes."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from planning.models import ProductionOrder
from planning.services.orders import production_order_release

from .helpers import root_name, valid

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent / "examples"  # the shared V0701 examples


def test_export_to_file_then_import_it(demo_plant, tmp_path):
    production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
    target = tmp_path / "schedule.xml"
    call_command(
        "b2mml_export",
        "schedule",
        "--order",
        "MO-2026-00001",
        "-o",
        str(target),
        stderr=io.StringIO(),
    )
    valid(target.read_bytes())
    target.write_bytes(target.read_bytes().replace(b"MO-2026-00001", b"ERP-CMD-1"))
    out = io.StringIO()
    call_command("b2mml_import", str(target), stdout=out)
    assert root_name(out.getvalue().encode()) == "AcknowledgeOperationsSchedule"
    valid(out.getvalue().encode())
    assert ProductionOrder.objects.filter(external_ref="ERP-CMD-1").count() == 1


def test_export_to_stdout_and_nothing_to_export(demo_plant):
    # Releasing the demo order raises its bearing shortage: an exception to export.
    production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
    out = io.StringIO()
    call_command("b2mml_export", "alerts", stdout=out)
    valid(out.getvalue().encode())
    with pytest.raises(CommandError) as nothing:
        call_command("b2mml_export", "schedule", "--order", "MO-NOPE")
    assert nothing.value.returncode == 1
    with pytest.raises(CommandError) as bad_since:
        call_command("b2mml_export", "performance", "--since", "yesterday")
    assert bad_since.value.returncode == 1


def test_import_exit_codes(demo_plant, tmp_path):
    err = io.StringIO()
    with pytest.raises(CommandError) as invalid:
        call_command("b2mml_import", str(EXAMPLES / "invalid-schedule-example.xml"), stderr=err)
    assert invalid.value.returncode == 1
    assert (
        "/ProcessOperationsSchedule/DataArea/OperationsSchedule/OperationsRequest/RequestState"
        in err.getvalue()
    )
    with pytest.raises(CommandError) as unreadable:
        call_command("b2mml_import", str(tmp_path / "missing.xml"))
    assert unreadable.value.returncode == 2
