"""A table of another database read past its watermark: a real PostgreSQL database and an
SQLite file stand for the old systems."""

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.models import AuditEntry
from integration.engines import legacy as engine
from integration.models import LegacyRejectedRow, LegacySource, LegacySyncRun
from integration.services import legacy_sync
from integration.services.legacy_sync import legacy_source_create, legacy_source_run
from planning.models import ProductionOrder
from resources.models import StockBalance, StockMove

from .conftest import pg_execute

pytestmark = pytest.mark.django_db

ERP_TABLE = """
CREATE TABLE erp_orders (
    id serial PRIMARY KEY,
    aufnr text NOT NULL,
    matnr text,
    menge numeric(12, 3),
    due text,
    prio integer
)
"""


def erp_rows(url: str, *rows) -> None:
    for row in rows:
        pg_execute(
            url,
            "INSERT INTO erp_orders (aufnr, matnr, menge, due, prio) VALUES (%s, %s, %s, %s, %s)",
            row,
        )


def erp_source(url: str, **extra) -> LegacySource:
    fields = {
        "name": "old-erp",
        "kind": LegacySource.Kind.DATABASE,
        "target": LegacySource.Target.PRODUCTION_ORDERS,
        "url": url,
        "query": "SELECT id, aufnr, matnr, menge, due, prio FROM erp_orders",
        "watermark_column": "id",
        "mapping": {
            "aufnr": "external_ref",
            "matnr": "item",
            "menge": "quantity",
            "due": "due_date",
            "prio": "priority",
        },
        **extra,
    }
    return legacy_source_create(**fields)


def run(source) -> LegacySyncRun:
    return legacy_source_run(source=source, trigger=LegacySyncRun.Trigger.COMMAND)


def test_postgres_rows_become_orders_once_and_new_rows_follow(plant, pg_url):
    pg_execute(pg_url, ERP_TABLE)
    erp_rows(
        pg_url,
        ("4500001", "EB-500", "100", "2026-12-20", 2),
        ("4500002", "EB-500", "40.5", "2026-12-22", None),
        ("4500003", "EB-500", "12", "2026-12-23T18:30:00+08:00", 9),
    )
    source = erp_source(pg_url)

    first = run(source)
    assert (first.status, first.error) == ("done", "")
    assert (first.rows_read, first.rows_accepted, first.rows_rejected) == (3, 3, 0)
    orders = {o.external_ref: o for o in ProductionOrder.objects.all()}
    assert set(orders) == {"4500001", "4500002", "4500003"}
    assert orders["4500001"].quantity == Decimal("100")
    assert orders["4500001"].due_date == date(2026, 12, 20)
    assert (orders["4500001"].priority, orders["4500002"].priority) == (2, 5)
    # Through planning's service: the operations come from the routing, the audit is kept.
    assert [op.sequence for op in orders["4500002"].operations.all()] == [10]
    assert AuditEntry.objects.filter(action="production_order.create").count() == 3
    source.refresh_from_db()
    assert (source.watermark_type, source.watermark) == ("int", "3")

    again = run(source)
    assert (again.status, again.rows_read) == ("done", 0)
    assert ProductionOrder.objects.count() == 3
    assert AuditEntry.objects.filter(action__startswith="production_order.").count() == 3

    # New rows, and a row for a known order with a new quantity (the old system's update).
    erp_rows(
        pg_url,
        ("4500004", "EB-500", "7", "2026-12-28", 5),
        ("4500002", "EB-500", "45", "2026-12-22", None),
    )
    later = run(source)
    assert (later.rows_read, later.rows_accepted, later.watermark_to) == (2, 2, "5")
    assert ProductionOrder.objects.count() == 4
    assert ProductionOrder.objects.get(external_ref="4500002").quantity == Decimal("45")


def test_postgres_bad_rows_are_reported_and_the_others_go_in(plant, pg_url):
    pg_execute(pg_url, ERP_TABLE)
    erp_rows(
        pg_url,
        ("4500001", "EB-500", "10", "2026-12-20", 5),
        ("4500002", "NO-SUCH", "10", "2026-12-20", 5),
        ("4500003", "EB-500", "-4", "2026-12-20", 5),
        ("4500004", "EB-500", "10", "2026-02-30", 5),
        ("4500005", "BRG-6204", "10", "2026-12-20", 5),
        ("4500006", "EB-500", "10", "2026-12-21", 5),
    )
    source = erp_source(pg_url)
    result = run(source)
    assert (result.status, result.rows_accepted, result.rows_rejected) == ("done", 2, 4)
    assert set(ProductionOrder.objects.values_list("external_ref", flat=True)) == {
        "4500001",
        "4500006",
    }
    rejected = {r.watermark: r for r in result.rejected_rows.all()}
    assert {k: r.field for k, r in rejected.items()} == {
        "2": "item",
        "3": "quantity",
        "4": "due_date",
        "5": "item",
    }
    assert "NO-SUCH" in rejected["2"].reason
    assert "menge" in rejected["3"].reason and "above zero" in rejected["3"].reason
    assert "2026-02-30" in rejected["4"].reason
    assert "bought item" in rejected["5"].reason
    assert rejected["2"].data["aufnr"] == "4500002"
    assert rejected["3"].data["menge"] == "-4.000"

    # Past the rejected rows too: a re-run reads nothing and reports nothing again.
    assert run(source).rows_read == 0
    assert LegacyRejectedRow.objects.count() == 4


def test_updated_at_watermark_never_splits_equal_values(plant, pg_url):
    """With a timestamp for watermark, rows of equal value that straddle a batch are read
    together, none twice and none skipped."""
    pg_execute(
        pg_url,
        "CREATE TABLE stock_in (doc text, part text, wh text, qty numeric, changed timestamptz)",
    )
    moments = ["09:00", "09:05", "09:05", "09:05", "09:10"]
    for n, moment in enumerate(moments, start=1):
        pg_execute(
            pg_url,
            "INSERT INTO stock_in VALUES (%s, 'BRG-6204', 'WH-01', %s, %s)",
            (f"GR-{n}", n, f"2026-12-09T{moment}:00+08:00"),
        )
    source = legacy_source_create(
        name="old-wms",
        kind=LegacySource.Kind.DATABASE,
        target=LegacySource.Target.STOCK,
        url=pg_url,
        query="SELECT doc, part, wh, qty, changed FROM stock_in",
        watermark_column="changed",
        batch_size=2,
        mapping={"doc": "external_id", "part": "item", "wh": "location", "qty": "quantity"},
    )
    result = run(source)
    assert (result.status, result.rows_read, result.rows_accepted) == ("done", 5, 5)
    assert sorted(StockMove.objects.values_list("reference", flat=True)) == ["legacy old-wms"] * 5
    assert StockBalance.objects.get(item=plant["bearing"]).on_hand == Decimal("15")
    source.refresh_from_db()
    assert source.watermark_type == "datetime"
    last = engine.watermark_decode(source.watermark_type, source.watermark)
    assert last == datetime(2026, 12, 9, 1, 10, tzinfo=UTC)

    # A late row with an equal timestamp is behind the watermark (docs: the column must
    # grow as rows are written); a later one is read.
    pg_execute(
        pg_url,
        "INSERT INTO stock_in VALUES ('GR-6', 'BRG-6204', 'WH-01', 100, '2026-12-09T09:20:00+08:00')",
    )
    assert run(source).rows_accepted == 1
    assert StockBalance.objects.get(item=plant["bearing"]).on_hand == Decimal("115")


def test_a_crash_mid_run_rereads_nothing_already_applied(plant, tmp_path, monkeypatch):
    db = tmp_path / "mes.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (no INTEGER PRIMARY KEY, ref TEXT, item TEXT, qty TEXT)")
        conn.executemany(
            "INSERT INTO orders (ref, item, qty) VALUES (?, 'EB-500', ?)",
            [(f"WO-{n}", str(n)) for n in range(1, 6)],
        )
    source = legacy_source_create(
        name="mes",
        kind=LegacySource.Kind.DATABASE,
        target=LegacySource.Target.PRODUCTION_ORDERS,
        url=f"sqlite:///{db}",
        # A colon in the query is text, not a parameter.
        query="SELECT no, ref AS external_ref, item, qty AS quantity, '2026-12-30' AS due_date, "
        "'10:30' AS shift_start FROM orders",
        watermark_column="no",
    )
    real = legacy_sync.production_order_create
    calls = []

    def power_cut_at_the_third(**kwargs):
        calls.append(kwargs["external_ref"])
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return real(**kwargs)

    monkeypatch.setattr(legacy_sync, "production_order_create", power_cut_at_the_third)
    cut = run(source)
    assert cut.status == "failed" and "power cut" in cut.error
    assert (cut.rows_read, cut.watermark_to) == (2, "2")
    assert sorted(ProductionOrder.objects.values_list("external_ref", flat=True)) == [
        "WO-1",
        "WO-2",
    ]

    monkeypatch.setattr(legacy_sync, "production_order_create", real)
    resumed = run(source)
    assert (resumed.status, resumed.rows_read, resumed.watermark_from) == ("done", 3, "2")
    assert ProductionOrder.objects.count() == 5
    assert ProductionOrder.objects.filter(external_ref="WO-3").count() == 1


def test_sqlite_stock_receipts_and_issues_through_the_ledger(plant, tmp_path):
    db = tmp_path / "wms.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE moves (id INTEGER PRIMARY KEY, part, wh, qty, kind)")
        conn.executemany(
            "INSERT INTO moves (part, wh, qty, kind) VALUES (?, ?, ?, ?)",
            [
                ("BRG-6204", "WH-01", 50, "receipt"),
                ("BRG-6204", "WH-01", 20, "issue"),
                ("BRG-6204", "WH-99", 5, "receipt"),
                ("BRG-6204", "WH-01", 100, "issue"),
                ("BRG-6204", "WH-01", 1, "adjustment"),
            ],
        )
    source = legacy_source_create(
        name="wms",
        kind=LegacySource.Kind.DATABASE,
        target=LegacySource.Target.STOCK,
        url=f"sqlite:///{db}",
        query="SELECT * FROM moves",
        watermark_column="id",
        mapping={"part": "item", "wh": "location", "qty": "quantity"},
    )
    result = run(source)
    assert (result.rows_accepted, result.rows_rejected) == (2, 3)
    assert StockBalance.objects.get(item=plant["bearing"]).on_hand == Decimal("30")
    assert list(StockMove.objects.values_list("kind", "quantity")) == [
        ("receipt", Decimal("50")),
        ("issue", Decimal("-20")),
    ]
    rejected = {r.watermark: (r.field, r.reason) for r in result.rejected_rows.all()}
    assert rejected["3"][0] == "location" and "WH-99" in rejected["3"][1]
    assert rejected["4"][0] == "quantity" and "Only 30" in rejected["4"][1]
    assert rejected["5"][0] == "kind"
    assert run(source).rows_read == 0
    assert StockMove.objects.count() == 2


def test_a_source_without_a_mapped_column_fails_and_keeps_its_place(plant, tmp_path):
    db = tmp_path / "mes.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, ref TEXT, item TEXT)")
        conn.execute("INSERT INTO t (ref, item) VALUES ('A', 'EB-500')")
    source = legacy_source_create(
        name="mes",
        kind=LegacySource.Kind.DATABASE,
        target=LegacySource.Target.PRODUCTION_ORDERS,
        url=f"sqlite:///{db}",
        query="SELECT id, ref AS external_ref, item FROM t",
        watermark_column="id",
    )
    result = run(source)
    assert result.status == "failed"
    assert "quantity (column 'quantity')" in result.error
    assert "due_date" in result.error
    source.refresh_from_db()
    assert source.watermark == "" and result.rows_read == 0


def test_an_unreachable_database_fails_the_run_without_showing_the_password(plant):
    source = legacy_source_create(
        name="gone",
        kind=LegacySource.Kind.DATABASE,
        target=LegacySource.Target.PRODUCTION_ORDERS,
        url="postgresql://erp:Sup3rSecret@127.0.0.1:1/erp",
        query="SELECT * FROM orders",
        watermark_column="id",
    )
    result = run(source)
    assert result.status == "failed" and result.error
    assert "Sup3rSecret" not in result.error
    assert LegacySource.objects.get().watermark == ""


def test_a_run_stops_when_another_run_moved_the_watermark(plant, tmp_path, monkeypatch):
    db = tmp_path / "mes.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (no INTEGER PRIMARY KEY, ref TEXT)")
        conn.executemany("INSERT INTO orders (ref) VALUES (?)", [("WO-1",), ("WO-2",)])
    source = legacy_source_create(
        name="mes",
        kind=LegacySource.Kind.DATABASE,
        target=LegacySource.Target.PRODUCTION_ORDERS,
        url=f"sqlite:///{db}",
        query="SELECT no, ref AS external_ref, 'EB-500' AS item, 1 AS quantity, "
        "'2026-12-30' AS due_date FROM orders",
        watermark_column="no",
    )
    real = legacy_sync.production_order_create

    def meanwhile_another_run_took_row_two(**kwargs):
        # What a second run of the source would leave behind once it had taken row 2.
        LegacySource.objects.filter(pk=source.pk).update(watermark="2")
        return real(**kwargs)

    monkeypatch.setattr(legacy_sync, "production_order_create", meanwhile_another_run_took_row_two)
    result = run(source)
    assert result.status == "failed"
    assert "another run of mes moved the watermark to '2'" in result.error
    assert list(ProductionOrder.objects.values_list("external_ref", flat=True)) == ["WO-1"]
