"""One FilterSet per listed costing model, shared by the API and (later) the pages. Versions
are named by code, master data by its code."""

from datetime import date

import django_filters
from django import forms
from django.utils.translation import gettext, gettext_lazy

from planning.models import ProductionOrder

from .models import (
    CostRollupRun,
    ItemCost,
    LabourRate,
    LotPrice,
    MachineRate,
    OrderCostEntry,
    OverheadRate,
    PurchasePrice,
)


def month_parse(value: str) -> date:
    """ "2026-12" (or any day of it, "2026-12-09") -> date(2026, 12, 1); ValueError otherwise."""
    text = str(value).strip()
    parts = text.split("-")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    day = date(int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else 1)
    return day.replace(day=1)


class MonthField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return month_parse(value)
        except ValueError:
            raise forms.ValidationError(
                gettext("%(value)s is not a month: give YYYY-MM, e.g. 2026-12.")
                % {"value": repr(value)}
            ) from None


class MonthFilter(django_filters.Filter):
    """A posting period by its month (YYYY-MM)."""

    field_class = MonthField


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


class LotPriceFilterSet(django_filters.FilterSet):
    item = django_filters.CharFilter(field_name="lot__item__code")
    lot = django_filters.CharFilter(field_name="lot__code")

    class Meta:
        model = LotPrice
        fields = ["item", "lot"]


class OrderCostEntryFilterSet(django_filters.FilterSet):
    """The ledger by order, product, element, period and what the entries name; codes and
    badges, not ids."""

    order = django_filters.CharFilter(
        field_name="order__number", help_text=gettext_lazy("Order number.")
    )
    product = django_filters.CharFilter(
        field_name="order__item__code", help_text=gettext_lazy("The order's item code.")
    )
    period = MonthFilter(field_name="period", help_text=gettext_lazy("Posting month, YYYY-MM."))
    step = django_filters.NumberFilter(
        field_name="step_no", help_text=gettext_lazy("Operation number.")
    )
    item = django_filters.CharFilter(
        field_name="item__code", help_text=gettext_lazy("Component or product.")
    )
    work_center = django_filters.CharFilter(field_name="work_center__code")
    equipment = django_filters.CharFilter(field_name="equipment__code")
    operator = django_filters.CharFilter(
        field_name="operator__badge", help_text=gettext_lazy("Badge.")
    )
    version = django_filters.CharFilter(field_name="version__code")

    class Meta:
        model = OrderCostEntry
        fields = [
            "order",
            "product",
            "element",
            "period",
            "step",
            "item",
            "work_center",
            "equipment",
            "operator",
            "version",
            "late",
        ]


class OrderWithCostFilterSet(django_filters.FilterSet):
    """Orders with actual cost, by product and status."""

    product = django_filters.CharFilter(
        field_name="item__code", help_text=gettext_lazy("Item code.")
    )

    class Meta:
        model = ProductionOrder
        fields = ["product", "status"]
