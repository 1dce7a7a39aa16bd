"""Variances of the worked order (conftest.py) from its posted ledger, the drill-down to the
floor's records, flags, training needs and the variance API.

By hand (casting, operation 10; 4 good + 1 scrapped = 5 units out; version STD-2026):
  standard allowed: steel 5 × 2 kg = 10 kg × 10 = 100.00; labour 5 × 5.52 = 27.60
  (0.6 h at 46); machine 5 × 3.60 = 18.00 (0.6 h at 30).
  material price     132 − 12 kg × 10               = +12.00   (12 % of 100: flagged)
  material usage     (12 − 10) kg × 10              = +20.00   (20 %: flagged)
  labour rate        50 − 1 h × 46                  = +4.00    (14.5 % of 27.60: flagged)
  labour efficiency  1 h × 46 − 27.60               = +18.40   (66.7 %: flagged)
  machine rate       30 − 1 h × 30                  = 0
  machine efficiency 1 h × 30 − 18.00               = +12.00   (66.7 %: flagged)
  scrap              1 unit × 29.12                 = +29.12   (1 of 5 units, 20 %: flagged)
  total 95.52 = actual 212 − 4 good × 29.12 (the standard up to operation 10).
Nothing has reached operations 20–40: no standard is allowed there and nothing was spent.
"""

from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model

from core.models import Notification
from costing.engines import variance as engine
from costing.models import CostVersion, TrainingNeed
from costing.selectors.variance import (
    VarianceFilter,
    variance_drill_down,
    variance_totals,
    variances_list,
)
from costing.services.training import training_need_raise
from tests.errors import error_fields

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]
API = "/api/v1/costing"
HAND = {
    ("material_price", "STEEL-42"): D("12"),
    ("material_usage", "STEEL-42"): D("20"),
    ("labour_rate", None): D("4"),
    ("labour_efficiency", None): D("18.40"),
    ("machine_rate", None): D("0"),
    ("machine_efficiency", None): D("12"),
    ("scrap", None): D("29.12"),
}


def test_every_variance_of_the_worked_order(worked_order):
    found = variances_list(VarianceFilter(order="MO-2026-00001"))
    assert {(v.kind, v.component): v.amount for v in found} == HAND
    assert {v.step_no for v in found} == {10} and {v.work_center for v in found} == {"CAST"}
    assert sum(v.amount for v in found) == D("212") - 4 * D("29.12") == D("95.52")
    flagged = {v.kind: v.cause for v in found if v.flagged}
    assert flagged == {
        "material_price": "material price of STEEL-42 +12.0 % on operation 10 — lots S-2026-1101",
        "material_usage": "material usage of STEEL-42 +20.0 % on operation 10",
        "labour_rate": "labour rate +14.5 % on operation 10 — operators wangwu",
        "labour_efficiency": "labour efficiency +66.7 % on operation 10 — operators wangwu",
        "machine_efficiency": "machine efficiency +66.7 % on operation 10 — machines CAST-01",
        "scrap": "scrap 1 of 5 units (+20.0 %, 29.12 at standard) on operation 10 — "
        "operators wangwu",
    }


def test_drill_down_totals_equal_each_variance(worked_order):
    for v in variances_list(VarianceFilter(order="MO-2026-00001")):
        drill = variance_drill_down(
            order="MO-2026-00001", kind=v.kind, step_no=v.step_no, component=v.component or ""
        )
        assert drill.total == v.amount, v.kind
        assert drill.records, v.kind
    labour = variance_drill_down(order="MO-2026-00001", kind="labour_efficiency", step_no=10)
    assert [(r.source, r.operator) for r in labour.records] == [
        ("labour booking", "wangwu"),
        ("labour booking", "wangwu"),
    ]
    assert labour.standard_allowed == D("27.60")
    machine = variance_drill_down(order="MO-2026-00001", kind="machine_efficiency", step_no=10)
    assert [(r.source, r.event_id, r.equipment) for r in machine.records] == [
        ("production event", "w-pause", "CAST-01"),
        ("production event", "w-complete", "CAST-01"),
    ]
    price = variance_drill_down(order="MO-2026-00001", kind="material_price", component="STEEL-42")
    (issue,) = price.records
    assert (issue.source, issue.lot, issue.event_id, issue.share) == (
        "material issue",
        "S-2026-1101",
        "cast-steel-1",
        D("12"),
    )
    scrap = variance_drill_down(order="MO-2026-00001", kind="scrap", step_no=10)
    assert [(r.event_id, r.operator) for r in scrap.records] == [("w-u4", "wangwu")]


def test_threshold_of_the_version_or_the_setting(worked_order, settings):
    settings.COSTING_VARIANCE_THRESHOLD_PCT = D("50")
    flagged = {v.kind for v in variances_list(VarianceFilter(flagged=True))}
    assert flagged == {"labour_efficiency", "machine_efficiency"}
    CostVersion.objects.filter(code="STD-2026").update(variance_threshold_pct=D("15"))
    flagged = {v.kind for v in variances_list(VarianceFilter(flagged=True))}
    assert flagged == {"material_usage", "labour_efficiency", "machine_efficiency", "scrap"}


def test_totals_by_product_work_center_and_period(worked_order):
    (product,) = variance_totals(by=("product",))
    assert product.group == ("EB-500",) and product.total == D("95.52") and product.orders == 1
    (wc,) = variance_totals(VarianceFilter(work_center="CAST"), by=("work_center",))
    assert wc.by_kind[engine.LABOUR_EFFICIENCY] == D("18.40")
    (period,) = variance_totals(by=("period",))
    assert period.group == ("2026-12",)
    assert variance_totals(VarianceFilter(work_center="CNC"), by=("period",)) == []


def test_a_training_need_reaches_the_plant_manager_once(worked_order):
    cost = get_user_model().objects.get(username="wujiu")
    need, created = training_need_raise(
        order=worked_order, step_no=10, cause="labour_efficiency", by=cost
    )
    assert created and [o.badge for o in need.operators.all()] == ["OP-003"]
    assert need.text == (
        "Training need — MO-2026-00001: labour efficiency +66.7 % on operation 10 — "
        "operators wangwu"
    )
    inbox = Notification.objects.filter(user__username="qianyi")
    assert [n.text for n in inbox] == [need.text]
    again, created = training_need_raise(
        order=worked_order, step_no=10, cause="labour_efficiency", by=cost
    )
    assert not created and again.pk == need.pk
    assert inbox.count() == 1 and TrainingNeed.objects.count() == 1


def test_variance_api(worked_order, api_as):
    client = api_as("zhouba")
    rows = client.get(f"{API}/variances/?order=MO-2026-00001&flagged=true").json()
    assert rows["count"] == 6
    rows = client.get(f"{API}/variances/?product=EB-500&period=2026-12&kind=scrap").json()
    (scrap,) = rows["results"]
    assert scrap["amount"] == "29.1200" and scrap["pct"] == "20.0"
    totals = client.get(f"{API}/variances/totals/?by=work_center,period").json()
    assert totals == [
        {
            "group": {"work_center": "CAST", "period": "2026-12"},
            "by_kind": {
                "material_price": "12.0000",
                "material_usage": "20.0000",
                "labour_rate": "4.0000",
                "labour_efficiency": "18.4000",
                "machine_rate": "0.0000",
                "machine_efficiency": "12.0000",
                "scrap": "29.1200",
            },
            "total": "95.5200",
            "orders": 1,
        }
    ]
    drill = client.get(
        f"{API}/variances/drill-down/?order=MO-2026-00001&kind=labour_efficiency&step=10"
    ).json()
    assert drill["total"] == drill["variance"]["amount"] == "18.4000"
    assert [r["operator"] for r in drill["records"]] == ["wangwu", "wangwu"]
    missing = client.get(f"{API}/variances/drill-down/?order=MO-2026-00001&kind=scrap&step=20")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "url,field",
    [
        ("variances/?period=2026-13", "period"),
        ("variances/?kind=luck", "kind"),
        ("variances/?flagged=maybe", "flagged"),
        ("variances/?colour=red", "colour"),
        ("variances/totals/?by=customer", "by"),
        ("variances/drill-down/?kind=scrap", "order"),
        ("variances/drill-down/?order=MO-2026-00001", "kind"),
        ("variances/drill-down/?order=MO-NOPE&kind=scrap", "order"),
        ("variances/drill-down/?order=MO-2026-00001&kind=scrap&step=x", "step"),
    ],
)
def test_bad_variance_queries_are_400_naming_the_field(worked_order, api_as, url, field):
    response = api_as("wujiu").get(f"{API}/{url}")
    assert response.status_code == 400 and field in error_fields(response), response.json()


def test_training_need_api(worked_order, api_as):
    body = {"order": "MO-2026-00001", "step_no": 10, "cause": "scrap"}
    first = api_as("wujiu").post(f"{API}/training-needs/", body, format="json")
    again = api_as("qianyi").post(f"{API}/training-needs/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["operators"] == ["OP-003"]
    # Not a cause training answers; an operation without the variance; a bad order.
    for bad, field in (
        ({**body, "cause": "material_price"}, "cause"),
        ({**body, "step_no": 20}, "step_no"),
        ({**body, "order": "MO-NOPE"}, "order"),
        ({**body, "step_no": "ten"}, "step_no"),
    ):
        response = api_as("wujiu").post(f"{API}/training-needs/", bad, format="json")
        assert response.status_code == 400 and field in error_fields(response), bad
    # Planners read variances but do not raise training needs.
    assert api_as("zhouba").post(f"{API}/training-needs/", body, format="json").status_code == 403
    assert TrainingNeed.objects.count() == 1


VARIANCE_ENDPOINTS = [
    ("get", f"{API}/variances/"),
    ("get", f"{API}/variances/totals/"),
    ("get", f"{API}/variances/drill-down/?order=MO-2026-00001&kind=scrap&step=10"),
    ("get", f"{API}/training-needs/"),
    ("post", f"{API}/training-needs/"),
]


@pytest.mark.parametrize("username", ["zhangsan", "lisi", "wangwu"])
def test_operators_get_403_on_every_variance_endpoint(worked_order, api_as, username):
    client = api_as(username)
    for method, url in VARIANCE_ENDPOINTS:
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 403, (username, method, url)


def test_the_cost_variance_tile_of_the_month(worked_order):
    """The worked order's variances all fall in 2026-12: +95.52 in total, above standard."""
    from datetime import date

    from django.utils import translation

    from costing.selectors.kpi import cost_variance_of_month

    with translation.override("en"):
        kpi = cost_variance_of_month(date(2026, 12, 9))
    assert (kpi.value, kpi.text) == (D("95.52"), "+95.52")
    assert kpi.status in ("warn", "bad") and "2026" in kpi.detail
    nothing = cost_variance_of_month(date(2026, 10, 1))
    assert nothing.value is None and nothing.empty
