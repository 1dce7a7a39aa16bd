"""One FilterSet per listed costing model, shared by the API and (later) the pages. Versions
are named by code, master data by its code."""

import django_filters

from .models import (
    CostRollupRun,
    ItemCost,
    LabourRate,
    MachineRate,
    OverheadRate,
    PurchasePrice,
)


class _ByVersion(django_filters.FilterSet):
    version = django_filters.CharFilter(field_name="version__code")


class LabourRateFilterSet(_ByVersion):
    work_center = django_filters.CharFilter(field_name="work_center__code")
    skill = django_filters.CharFilter(field_name="skill__code")

    class Meta:
        model = LabourRate
        fields = ["version", "work_center", "skill", "skill_level"]


class MachineRateFilterSet(_ByVersion):
    equipment = django_filters.CharFilter(field_name="equipment__code")

    class Meta:
        model = MachineRate
        fields = ["version", "equipment"]


class OverheadRateFilterSet(_ByVersion):
    work_center = django_filters.CharFilter(field_name="work_center__code")

    class Meta:
        model = OverheadRate
        fields = ["version", "work_center", "basis"]


class PurchasePriceFilterSet(_ByVersion):
    item = django_filters.CharFilter(field_name="item__code")

    class Meta:
        model = PurchasePrice
        fields = ["version", "item"]


class ItemCostFilterSet(_ByVersion):
    item = django_filters.CharFilter(field_name="item__code")

    class Meta:
        model = ItemCost
        fields = ["version", "item", "complete"]


class CostRollupRunFilterSet(_ByVersion):
    class Meta:
        model = CostRollupRun
        fields = ["version"]
