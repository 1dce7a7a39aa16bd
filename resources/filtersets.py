import django_filters

from core.filtersets import InstantFilter

from .models import (
    Equipment,
    Item,
    Operator,
    PurchaseOrder,
    ShiftAssignment,
    StockBalance,
    StockMove,
    WorkCenter,
)


class ItemFilterSet(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="icontains")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Item
        fields = ["code", "name", "source", "tracking", "lot_policy", "low_level_code"]


class WorkCenterFilterSet(django_filters.FilterSet):
    area = django_filters.CharFilter(field_name="area__code")

    class Meta:
        model = WorkCenter
        fields = ["area", "code"]


class EquipmentFilterSet(django_filters.FilterSet):
    work_center = django_filters.CharFilter(field_name="work_center__code")

    class Meta:
        model = Equipment
        fields = ["work_center", "status", "code"]


class StockBalanceFilterSet(django_filters.FilterSet):
    item = django_filters.CharFilter(field_name="item__code")
    location = django_filters.CharFilter(field_name="location__code")

    class Meta:
        model = StockBalance
        fields = ["item", "location"]


class StockMoveFilterSet(django_filters.FilterSet):
    item = django_filters.CharFilter(field_name="item__code")
    location = django_filters.CharFilter(field_name="location__code")
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = StockMove
        fields = ["item", "location", "kind", "created_after"]


class PurchaseOrderFilterSet(django_filters.FilterSet):
    item = django_filters.CharFilter(field_name="lines__item__code", distinct=True)
    status = django_filters.MultipleChoiceFilter(choices=PurchaseOrder.Status.choices)
    supplier = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = PurchaseOrder
        fields = ["number", "external_ref", "supplier", "status", "item"]


class OperatorFilterSet(django_filters.FilterSet):
    home_work_center = django_filters.CharFilter(field_name="home_work_center__code")
    skill = django_filters.CharFilter(field_name="skills__skill__code", distinct=True)

    class Meta:
        model = Operator
        fields = ["badge", "active", "home_work_center", "skill"]


class ShiftAssignmentFilterSet(django_filters.FilterSet):
    operator = django_filters.CharFilter(field_name="operator__badge")
    work_center = django_filters.CharFilter(field_name="shift__work_center__code")
    on = django_filters.DateFilter(method="valid_on")

    class Meta:
        model = ShiftAssignment
        fields = ["operator", "shift", "work_center", "on"]

    def valid_on(self, queryset, name, value):
        return queryset.filter(valid_from__lte=value).exclude(valid_to__lt=value)
