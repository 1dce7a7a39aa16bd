from rest_framework import serializers

from core.api import CleanModelSerializer, PolicyFieldsMixin
from core.signatures import (
    SignedListSerializer,
    SignedSerializerMixin,
    signature_password_field,
    signature_reason_field,
)

from ..models import (
    Area,
    Equipment,
    Item,
    MaterialLot,
    Site,
    StockBalance,
    StockLocation,
    StockMove,
    WorkCenter,
)


class SiteSerializer(CleanModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "code", "name", "time_zone"]


class AreaSerializer(CleanModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.all())

    class Meta:
        model = Area
        fields = ["id", "code", "name", "site"]


class WorkCenterSerializer(PolicyFieldsMixin, CleanModelSerializer):
    # Rates are money: only for the roles that read costs (core/policy.py).
    policy_fields = {"costing.cost.view": ("labour_rate_per_hour", "machine_rate_per_hour")}

    area = serializers.SlugRelatedField(slug_field="code", queryset=Area.objects.all())

    class Meta:
        model = WorkCenter
        fields = [
            "id",
            "code",
            "name",
            "area",
            "labour_rate_per_hour",
            "machine_rate_per_hour",
            "parallel_units",
        ]


class EquipmentSerializer(CleanModelSerializer):
    work_center = serializers.SlugRelatedField(slug_field="code", queryset=WorkCenter.objects.all())
    backup_equipment = serializers.SlugRelatedField(
        slug_field="code", queryset=Equipment.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Equipment
        fields = [
            "id",
            "code",
            "name",
            "model",
            "work_center",
            "rated_rate",
            "status",
            "backup_equipment",
        ]


class ItemSerializer(PolicyFieldsMixin, CleanModelSerializer):
    policy_fields = {"costing.cost.view": ("standard_cost",)}

    class Meta:
        model = Item
        fields = [
            "id",
            "code",
            "name",
            "source",
            "uom",
            "standard_cost",
            "lead_time_days",
            "lot_policy",
            "lot_size",
            "lot_multiple",
            "safety_stock",
            "tracking",
            "low_level_code",
        ]
        read_only_fields = ["low_level_code"]


class StockLocationSerializer(CleanModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.all())

    class Meta:
        model = StockLocation
        fields = ["id", "code", "name", "site"]


class MaterialLotSerializer(CleanModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())

    class Meta:
        model = MaterialLot
        fields = ["id", "item", "code", "supplier_lot", "expires_on", "created_at"]


class StockBalanceSerializer(CleanModelSerializer):
    item = serializers.CharField(source="item.code")
    location = serializers.CharField(source="location.code")
    lot = serializers.CharField(source="lot.code", default=None)

    class Meta:
        model = StockBalance
        fields = ["item", "location", "lot", "on_hand"]


class StockMoveSerializer(SignedSerializerMixin, CleanModelSerializer):
    """A stock move; an adjustment or a reversal also takes `password` and `reason`, the
    supply-chain director's signature."""

    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    password = signature_password_field(
        "Adjustments and reversals: the signer's password, once more."
    )
    reason = signature_reason_field(
        "Adjustments and reversals: why; kept with the signature.", write_only=True
    )
    location = serializers.SlugRelatedField(slug_field="code", queryset=StockLocation.objects.all())
    lot = serializers.CharField(required=False, allow_null=True, source="lot.code", default=None)

    class Meta:
        model = StockMove
        fields = [
            "id",
            "item",
            "location",
            "lot",
            "quantity",
            "kind",
            "reference",
            "external_id",
            "created_at",
            "password",
            "reason",
            "signatures",
        ]
        read_only_fields = ["created_at"]
        list_serializer_class = SignedListSerializer
        # A repeated external_id is a retry, answered with the move already recorded.
        extra_kwargs = {"external_id": {"validators": []}}
