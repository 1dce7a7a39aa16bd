"""Costing pages under /costing/ (views/<page>.py mounted here)."""

from django.urls import path

from .views import compare, sheet, versions

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
]
