"""The pure rules: mapping, typed row values, watermarks, the query's shape."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from integration.engines import legacy as engine
from integration.engines.legacy import RowRejected

SHANGHAI = ZoneInfo("Asia/Shanghai")


def values(row: dict, target=engine.PRODUCTION_ORDERS, mapping=None) -> dict:
    columns = engine.columns_resolve(target, mapping or {}, list(row))
    return engine.row_values(target, columns, row, SHANGHAI)


def test_defaults_read_columns_of_our_own_names_case_blind():
    got = values(
        {"EXTERNAL_REF": " A-1 ", "Item": "EB-500", "quantity": "2.5", "due_date": "2026-12-20"}
    )
    assert got == {
        "external_ref": "A-1",
        "item": "EB-500",
        "quantity": Decimal("2.5"),
        "due_date": date(2026, 12, 20),
    }


def test_a_mapped_column_feeds_the_field_instead_of_its_namesake():
    row = {"ref": "A", "item": "OLD", "PART": "EB-500", "qty": 3, "due_date": date(2026, 12, 1)}
    got = values(row, mapping={"ref": "external_ref", "PART": "item", "qty": "quantity"})
    assert (got["item"], got["quantity"]) == ("EB-500", Decimal("3"))


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"quantity": "0"}, "quantity", "above zero"),
        ({"quantity": "NaN"}, "quantity", "not a number"),
        ({"quantity": "1e20"}, "quantity", "too large"),
        ({"quantity": True}, "quantity", "not a quantity"),
        ({"due_date": "2026-13-01"}, "due_date", "not a date"),
        ({"item": "  "}, "item", "empty"),
        ({"priority": "2.5"}, "priority", "whole number"),
        ({"priority": "10"}, "priority", "outside 1 to 9"),
        ({"status": "released"}, "status", "not one of draft, planned"),
        ({"external_ref": "x" * 101}, "external_ref", "longer than 100"),
    ],
)
def test_a_bad_value_names_its_field(change, field, words):
    row = {"external_ref": "A", "item": "EB-500", "quantity": "1", "due_date": "2026-12-20"}
    with pytest.raises(RowRejected) as caught:
        values({**row, **change})
    assert caught.value.field == field and words in caught.value.reason


def test_a_date_time_is_its_day_in_the_plant():
    row = {"external_ref": "A", "item": "I", "quantity": 1}
    late = datetime(2026, 12, 20, 17, 0, tzinfo=UTC)  # 01:00 on the 21st in Shanghai
    assert values({**row, "due_date": late})["due_date"] == date(2026, 12, 21)
    assert values({**row, "due_date": "2026-12-20T17:00:00Z"})["due_date"] == date(2026, 12, 21)


@pytest.mark.parametrize(
    "value",
    [42, Decimal("10.50"), 1.25, datetime(2026, 12, 9, 1, 5, tzinfo=UTC), date(2026, 1, 2), "K-9"],
)
def test_watermarks_round_trip(value):
    assert engine.watermark_decode(*engine.watermark_encode(value)) == value


def test_a_watermark_that_cannot_be_one():
    with pytest.raises(ValueError):
        engine.watermark_encode(True)
    with pytest.raises(ValueError):
        engine.watermark_decode("int", "twelve")


def test_mapping_and_query_checks():
    assert engine.mapping_errors(engine.STOCK, {"A": "item"}) == []
    assert "our fields are" in engine.mapping_errors(engine.STOCK, {"A": "due_date"})[0]
    assert "fed by both" in engine.mapping_errors(engine.STOCK, {"A": "item", "B": "item"})[0]
    assert engine.query_errors("select * from t;") == []
    assert engine.query_errors("WITH x AS (SELECT 1) SELECT * FROM x") == []
    assert engine.query_errors("UPDATE t SET a = 1")
    assert engine.query_errors("SELECT 1; SELECT 2")
