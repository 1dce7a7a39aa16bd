"""A CSV drop folder: files taken once (by their content's SHA-256), moved to processed/ or
rejected/, bad lines reported with their line and field."""

import os
import time
from decimal import Decimal

import pytest

from integration.models import LegacyFile, LegacySource, LegacySyncRun
from integration.services import legacy_sync
from integration.services.legacy_sync import legacy_source_create, legacy_source_run
from planning.models import ProductionOrder
from resources.models import StockBalance, StockMove

pytestmark = pytest.mark.django_db

ORDERS = (
    "external_ref,item,quantity,due_date,priority\n"
    "SAP-1,EB-500,100,2026-12-20,3\n"
    "SAP-2,NOPE,10,2026-12-20,\n"
    "SAP-3,EB-500,ten,2026-12-20,\n"
    "SAP-4,EB-500,20,20.12.2026,\n"
    "SAP-5,EB-500,30,2026-12-24,\n"
)


def folder_source(drop_root, target=LegacySource.Target.PRODUCTION_ORDERS, **extra):
    (drop_root / "drop").mkdir(exist_ok=True)
    return legacy_source_create(
        name=extra.pop("name", "drop"),
        kind=LegacySource.Kind.CSV_FOLDER,
        target=target,
        folder="drop",
        settle_seconds=0,
        **extra,
    )


def run(source) -> LegacySyncRun:
    return legacy_source_run(source=source, trigger=LegacySyncRun.Trigger.COMMAND)


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def test_files_become_orders_and_move_to_processed(plant, drop_root):
    source = folder_source(drop_root)
    drop = drop_root / "drop"
    (drop / "orders-1.csv").write_text(ORDERS)
    (drop / "notes.txt").write_text("not a csv")

    result = run(source)
    assert (result.status, result.files_read) == ("done", 1)
    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (5, 2, 3)
    assert set(ProductionOrder.objects.values_list("external_ref", flat=True)) == {
        "SAP-1",
        "SAP-5",
    }
    assert ProductionOrder.objects.get(external_ref="SAP-1").priority == 3
    rejected = [(r.file_name, r.line, r.field) for r in result.rejected_rows.all()]
    assert rejected == [
        ("orders-1.csv", 3, "item"),
        ("orders-1.csv", 4, "quantity"),
        ("orders-1.csv", 5, "due_date"),
    ]
    assert "'ten' is not a number" in result.rejected_rows.get(line=4).reason
    assert names(drop) == ["notes.txt"]
    assert names(drop / "processed") == ["orders-1.csv"]
    record = LegacyFile.objects.get()
    assert (record.status, record.rows_done, record.rows_accepted) == ("processed", 5, 2)


def test_a_file_dropped_again_changes_nothing(plant, drop_root):
    source = folder_source(drop_root, target=LegacySource.Target.STOCK)
    drop = drop_root / "drop"
    receipts = "item,location,quantity\nBRG-6204,WH-01,40\nBRG-6204,WH-01,2\n"
    (drop / "gr.csv").write_text(receipts)
    assert run(source).rows_accepted == 2
    assert StockBalance.objects.get(item=plant["bearing"]).on_hand == Decimal("42")

    # The same content again, under its own name and under another one.
    (drop / "gr.csv").write_text(receipts)
    (drop / "gr-copy.csv").write_text(receipts)
    again = run(source)
    assert (again.files_read, again.files_skipped, again.rows_read) == (0, 2, 0)
    assert StockMove.objects.count() == 2
    assert StockBalance.objects.get(item=plant["bearing"]).on_hand == Decimal("42")
    assert names(drop) == []
    processed = names(drop / "processed")
    assert len(processed) == 3 and "gr.csv" in processed and "gr-copy.csv" in processed
    assert LegacyFile.objects.count() == 1


def test_an_unreadable_file_is_rejected_whole(plant, drop_root):
    source = folder_source(drop_root, mapping={"PART": "item"})
    drop = drop_root / "drop"
    (drop / "a-wrong-header.csv").write_text("ref,item,qty\nX,EB-500,1\n")
    (drop / "b-latin1.csv").write_bytes(
        "external_ref,PART,quantity,due_date\nÄ,EB-500,1,2026-12-20\n".encode("latin-1")
    )
    (drop / "c-all-bad.csv").write_text(
        "external_ref,PART,quantity,due_date\nX1,NOPE,1,2026-12-20\nX2,NOPE,1,2026-12-20\n"
    )
    result = run(source)
    assert result.status == "done" and result.files_read == 3
    assert names(drop / "rejected") == ["a-wrong-header.csv", "b-latin1.csv", "c-all-bad.csv"]
    reasons = {(r.file_name, r.line): (r.field, r.reason) for r in result.rejected_rows.all()}
    field, reason = reasons[("a-wrong-header.csv", None)]
    assert field == "file"
    assert "external_ref (column 'external_ref')" in reason and "item (column 'PART')" in reason
    assert "utf-8-sig" in reasons[("b-latin1.csv", None)][1]
    assert reasons[("c-all-bad.csv", 2)][0] == "item"
    assert not ProductionOrder.objects.exists()


def test_mapped_columns_delimiter_and_encoding(plant, drop_root):
    source = folder_source(
        drop_root,
        target=LegacySource.Target.STOCK,
        mapping={"物料": "item", "仓库": "location", "数量": "quantity", "单号": "external_id"},
        delimiter=";",
        encoding="gb18030",
    )
    text = "单号;物料;仓库;数量\nRK-001;BRG-6204;WH-01;12,5\nRK-002;BRG-6204;WH-01;7.5\n"
    (drop_root / "drop" / "入库.csv").write_bytes(text.encode("gb18030"))
    result = run(source)
    assert (result.rows_accepted, result.rows_rejected) == (1, 1)
    bad = result.rejected_rows.get()
    assert (bad.line, bad.field) == (2, "quantity") and "数量" in bad.reason
    move = StockMove.objects.get()
    assert move.quantity == Decimal("7.5")
    assert move.external_id == f"legacy-{source.pk}:RK-002"


def test_a_file_still_being_written_waits(plant, drop_root, pinned_now):
    source = folder_source(drop_root)
    source.settle_seconds = 60
    source.save()
    path = drop_root / "drop" / "orders.csv"
    path.write_text(ORDERS)
    now = time.time()  # the pinned clock's
    os.utime(path, (now, now))
    assert run(source).files_read == 0
    assert names(drop_root / "drop") == ["orders.csv"]
    pinned_now.shift(61)
    assert run(source).files_read == 1


def test_a_crash_mid_file_resumes_after_the_last_row_taken(plant, drop_root, monkeypatch):
    source = folder_source(drop_root, target=LegacySource.Target.STOCK)
    path = drop_root / "drop" / "gr.csv"
    path.write_text("item,location,quantity\n" + "BRG-6204,WH-01,1\n" * 5)
    real = legacy_sync.stock_move_record
    calls = []

    def power_cut_at_the_third(**kwargs):
        calls.append(kwargs)
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return real(**kwargs)

    monkeypatch.setattr(legacy_sync, "stock_move_record", power_cut_at_the_third)
    cut = run(source)
    assert cut.status == "failed" and "power cut" in cut.error
    assert StockMove.objects.count() == 2
    assert LegacyFile.objects.get().rows_done == 2
    assert path.exists()  # not moved: it was not finished

    monkeypatch.setattr(legacy_sync, "stock_move_record", real)
    resumed = run(source)
    assert (resumed.status, resumed.rows_read, resumed.rows_accepted) == ("done", 3, 3)
    assert StockMove.objects.count() == 5
    assert StockBalance.objects.get(item=plant["bearing"]).on_hand == Decimal("5")
    assert not path.exists() and names(drop_root / "drop" / "processed") == ["gr.csv"]
    assert LegacyFile.objects.get().status == "processed"


def test_a_missing_folder_fails_the_run(plant, drop_root):
    source = folder_source(drop_root)
    (drop_root / "drop").rmdir()
    result = run(source)
    assert result.status == "failed" and "No folder" in result.error
