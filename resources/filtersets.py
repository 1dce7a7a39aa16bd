import django_filters

from .models import Equipment, Item, StockBalance, StockMove, WorkCenter


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
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = StockMove
        fields = ["item", "location", "kind", "created_after"]
