"""Costing pages under /costing/ (views/<page>.py mounted here)."""

from django.urls import path

from .views import compare, orders, sheet, trend, variances, versions

app_name = "costing"

urlpatterns: list = [
    # Cost versions: the overview, the roll-up and "make current"
    path("", versions.versions, name="versions"),
    path("versions/<str:code>/rollup/", versions.version_rollup, name="version_rollup"),
    path(
        "versions/<str:code>/make-current/",
        versions.version_make_current,
        name="version_make_current",
    ),
    # The item cost sheet (the roll-up tree, one level per HTMX request) and its exports
    path("sheet/", sheet.sheet, name="sheet"),
    path("sheet/items/", sheet.sheet_items, name="sheet_items"),
    path("sheet/<str:version>/<str:item>/node/", sheet.sheet_node, name="sheet_node"),
    # An item's standard cost across versions
    path("compare/", compare.compare, name="compare"),
    # Actual cost per production order: the list and one order (standard vs actual, ledger)
    path("orders/", orders.order_costs, name="orders"),
    path("orders/<str:number>/", orders.order_cost, name="order"),
    # Variances with their totals, the drill-down to the records and the training need
    path("variances/", variances.variances, name="variances"),
    path("variances/drill-down/", variances.variance_drill, name="variance_drill"),
    path(
        "variances/training-need/",
        variances.variance_training_need,
        name="variance_training_need",
    ),
    # A product's standard against actual unit cost per month
    path("trend/", trend.trend, name="trend"),
]
