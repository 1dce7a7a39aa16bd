import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.filtersets import InstantFilter

from .models import MpsEntry, ProductionOrder, PurchaseRequisition, SalesOrder
from .selectors.risk import at_risk_ids


class SalesOrderFilterSet(django_filters.FilterSet):
    # Numbers and customers match in part, as the production orders' numbers do (a search box
    # on a page, a prefix from a program); codes of master data match exactly.
    number = django_filters.CharFilter(lookup_expr="icontains")
    customer = django_filters.CharFilter(lookup_expr="icontains")
    item = django_filters.CharFilter(field_name="item__code")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = SalesOrder
        fields = ["number", "customer", "item", "status", "priority", "due_before"]


class MpsEntryFilterSet(django_filters.FilterSet):
    item = django_filters.CharFilter(field_name="item__code")
    start = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    end = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")

    class Meta:
        model = MpsEntry
        fields = ["item", "bucket", "start", "end"]


class Flag(forms.CheckboxInput):
    """A tick box that also reads a program's ?flag=true / ?flag=0 (absent: not filtered)."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        return None if value in (None, "") else str(value).lower() in ("1", "true", "on", "yes")


class ProductionOrderFilterSet(django_filters.FilterSet):
    item = django_filters.CharFilter(field_name="item__code")
    number = django_filters.CharFilter(lookup_expr="icontains")
    sales_order = django_filters.CharFilter(field_name="sales_order__number")
    # Tick boxes on the order list (a multiple select is hard to use); the API reads
    # ?status=a&status=b either way.
    status = django_filters.MultipleChoiceFilter(
        choices=ProductionOrder.Status.choices, widget=forms.CheckboxSelectMultiple
    )
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    work_center = django_filters.CharFilter(
        field_name="operations__work_center__code", distinct=True
    )
    # Late or at risk by the one delivery-risk figure (planning/selectors/risk.py): the order
    # list's "At risk only" box (?risk=1) and the API's ?risk=true.
    risk = django_filters.BooleanFilter(method="filter_risk", label=_("At risk only"), widget=Flag)

    def filter_risk(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(pk__in=at_risk_ids(queryset))

    class Meta:
        model = ProductionOrder
        fields = [
            "item",
            "number",
            "sales_order",
            "status",
            "priority",
            "due_before",
            "work_center",
        ]


class PurchaseRequisitionFilterSet(django_filters.FilterSet):
    item = django_filters.CharFilter(field_name="item__code")
    status = django_filters.MultipleChoiceFilter(choices=PurchaseRequisition.Status.choices)
    need_before = django_filters.DateFilter(field_name="need_date", lookup_expr="lte")
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = PurchaseRequisition
        fields = ["number", "item", "status", "urgent", "need_before", "created_after"]
