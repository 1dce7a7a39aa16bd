import django_filters
from django import forms

from core.filtersets import InstantFilter

from .models import MpsEntry, ProductionOrder, PurchaseRequisition, SalesOrder


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
