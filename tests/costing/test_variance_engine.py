"""The variance engine on a two-operation order worked by hand (no database).

Product P, standard per unit:
  op 10 (work center A): material M1 2 kg × 10 = 20 (issued at op 10), labour 0.5 h × 40
  = 20, machine 0.5 h × 30 = 15, overhead 0.5 h × 8 = 4;
  op 20 (work center B): material M2 1 × 5 = 5 (issued at op 20), labour 0.25 h × 36 = 9.
  Standard unit cost 73; accumulated: up to op 10 = 59, up to op 20 = 73.
The order: op 10 put out 10 (9 good, 1 scrapped), op 20 put out 9 (8 good, 1 scrapped).
Actual: M1 22 kg at 10.50 = 231; labour op 10 6 h = 252 (42/h); machine op 10 4.5 h = 144
(32/h); overhead op 10 48; M2 9 at 5 = 45; labour op 20 2 h at 36 = 72. Actual total 792.

Standard allowed: M1 10 × 2 = 20 kg × 10 = 200; labour 10: 10 × 0.5 = 5 h × 40 = 200;
machine 10: 5 h × 30 = 150; overhead 10: 10 × 4 = 40; M2: 9 × 5 = 45; labour 20: 9 × 0.25 =
2.25 h × 36 = 81. Total 716.

  material price M1      231 − 22 × 10          = +11     (5.5 %)
  material usage M1      (22 − 20) × 10         = +20     (10 %: not over 10 %)
  labour rate op 10      252 − 6 × 40           = +12     (6 %)
  labour efficiency 10   (6 − 5) × 40           = +40     (20 %: flagged)
  machine rate op 10     144 − 4.5 × 30         = +9      (6 %)
  machine efficiency 10  (4.5 − 5) × 30         = −15     (−10 %)
  overhead op 10         48 − 40                = +8      (20 %: flagged)
  M2 price and usage                            = 0
  labour rate op 20      72 − 2 × 36            = 0
  labour efficiency 20   (2 − 2.25) × 36        = −9      (−11.1 %: flagged, favourable)
  scrap op 10            1 × 59                 = 59      (1 of 10 units: 10 %)
  scrap op 20            1 × 73                 = 73      (1 of 9: 11.1 %: flagged)
Element variances 76 = 792 − 716; with scrap 208 = 792 − 8 good × 73.
"""

from decimal import Decimal as D

from costing.engines.variance import (
    ActualLine,
    OrderIn,
    StandardLine,
    order_variances,
    variances_aggregate,
)

STANDARD = [
    StandardLine("material", 10, D("2"), D("10"), D("20"), component="M1"),
    StandardLine("labour", 10, D("0.5"), D("40"), D("20"), work_center="A"),
    StandardLine("machine", 10, D("0.5"), D("30"), D("15"), work_center="A"),
    StandardLine("overhead", 10, D("0.5"), D("8"), D("4"), work_center="A"),
    StandardLine("material", 20, D("1"), D("5"), D("5"), component="M2"),
    StandardLine("labour", 20, D("0.25"), D("36"), D("9"), work_center="B"),
]
ACTUAL = [
    ActualLine("material", 10, D("22"), D("231"), component="M1", lots=("L-7",)),
    ActualLine("labour", 10, D("6"), D("252"), operators=("wangwu", "lisi")),
    ActualLine("machine", 10, D("4.5"), D("144"), equipment=("CAST-01",)),
    ActualLine("overhead", 10, D("6"), D("48")),
    ActualLine("material", 20, D("9"), D("45"), component="M2"),
    ActualLine("labour", 20, D("2"), D("72"), operators=("zhangsan",)),
    ActualLine("scrap", 10, D("1"), D("59"), operators=("wangwu",)),
    ActualLine("scrap", 20, D("1"), D("73"), operators=("zhangsan",)),
]


def worked() -> OrderIn:
    return OrderIn(
        order="MO-1",
        product="P",
        period="2026-12",
        output={10: D("10"), 20: D("9")},
        scrap={10: D("1"), 20: D("1")},
        standard=STANDARD,
        actual=ACTUAL,
        work_centers={10: "A", 20: "B"},
    )


def test_every_variance_as_worked_by_hand():
    found = order_variances(worked(), threshold_pct=D("10"))
    got = {(v.kind, v.step_no, v.component): v.amount for v in found}
    assert got == {
        ("material_price", 10, "M1"): D("11"),
        ("material_usage", 10, "M1"): D("20"),
        ("labour_rate", 10, None): D("12"),
        ("labour_efficiency", 10, None): D("40"),
        ("machine_rate", 10, None): D("9"),
        ("machine_efficiency", 10, None): D("-15"),
        ("overhead", 10, None): D("8"),
        ("material_price", 20, "M2"): D("0"),
        ("material_usage", 20, "M2"): D("0"),
        ("labour_rate", 20, None): D("0"),
        ("labour_efficiency", 20, None): D("-9"),
        ("scrap", 10, None): D("59"),
        ("scrap", 20, None): D("73"),
    }
    elements = sum(v.amount for v in found if v.kind != "scrap")
    assert elements == D("792") - D("716") == D("76")
    assert sum(v.amount for v in found) == D("792") - 8 * D("73")


def test_flags_over_the_threshold_name_the_cause():
    found = order_variances(worked(), threshold_pct=D("10"))
    flagged = {(v.kind, v.step_no): v.cause for v in found if v.flagged}
    assert flagged == {
        ("labour_efficiency", 10): "labour efficiency +20.0 % on operation 10 — operators "
        "lisi, wangwu",
        ("overhead", 10): "overhead +20.0 % on operation 10",
        ("labour_efficiency", 20): "labour efficiency -11.1 % on operation 20 — operators zhangsan",
        ("scrap", 20): "scrap 1 of 9 units (+11.1 %, 73.00 at standard) on operation 20 — "
        "operators zhangsan",
    }
    # A looser threshold flags less; a tighter one more.
    assert sum(v.flagged for v in order_variances(worked(), threshold_pct=D("25"))) == 0
    assert sum(v.flagged for v in order_variances(worked(), threshold_pct=D("5"))) == 10


def test_unplanned_material_is_all_usage_and_missing_actuals_are_favourable():
    order = worked()
    order.actual = [
        *ACTUAL[:4],
        ActualLine("material", 20, D("3"), D("12"), component="X9"),  # not in the BOM
        ActualLine("labour", 20, D("2"), D("72")),
    ]  # M2 never issued
    found = {(v.kind, v.component): v for v in order_variances(order, threshold_pct=D("10"))}
    assert found[("material_price", "X9")].amount == 0
    assert found[("material_usage", "X9")].amount == D("12")
    assert found[("material_usage", "X9")].flagged  # no standard at all
    assert found[("material_usage", "M2")].amount == D("-45")


def test_aggregates_by_product_work_center_and_period():
    other = worked()
    other.order, other.period = "MO-2", "2027-01"
    found = order_variances(worked(), threshold_pct=D("10")) + order_variances(
        other, threshold_pct=D("10")
    )
    (product,) = variances_aggregate(found, by=("product",))
    assert product.group == ("P",) and product.orders == 2 and product.total == 2 * D("208")
    assert product.by_kind["labour_efficiency"] == 2 * D("31")
    by_wc = {t.group: t.total for t in variances_aggregate(found, by=("work_center",))}
    assert by_wc == {("A",): 2 * D("144"), ("B",): 2 * D("64")}
    by_period = {t.group: t.total for t in variances_aggregate(found, by=("period",))}
    assert by_period == {("2026-12",): D("208"), ("2027-01",): D("208")}
