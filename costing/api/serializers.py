"""Shapes and input validation of the costing API; the services decide."""

from rest_framework import serializers

from core.api import CleanModelSerializer
from resources.models import Equipment, Item, Skill, WorkCenter

from ..models import (
    CostRollupRun,
    CostVersion,
    ItemCost,
    ItemCostLine,
    LabourRate,
    MachineRate,
    OverheadRate,
    PurchasePrice,
)


def _code(model, **kwargs):
    return serializers.SlugRelatedField(slug_field="code", queryset=model.objects.all(), **kwargs)


class CostVersionSerializer(CleanModelSerializer):
    class Meta:
        model = CostVersion
        fields = ["id", "code", "name", "effective_from", "is_current", "note"]
        read_only_fields = ["is_current"]


class _InVersion(CleanModelSerializer):
    version = _code(CostVersion)


class LabourRateSerializer(_InVersion):
    work_center = _code(WorkCenter, required=False, allow_null=True)
    skill = _code(Skill, required=False, allow_null=True)

    class Meta:
        model = LabourRate
        fields = ["id", "version", "work_center", "skill", "skill_level", "rate_per_hour"]


class MachineRateSerializer(_InVersion):
    equipment = _code(Equipment)
    rate_per_hour = serializers.DecimalField(max_digits=16, decimal_places=4, read_only=True)

    class Meta:
        model = MachineRate
        fields = [
            "id",
            "version",
            "equipment",
            "depreciation_per_hour",
            "energy_per_hour",
            "maintenance_per_hour",
            "rate_per_hour",
        ]


class OverheadRateSerializer(_InVersion):
    work_center = _code(WorkCenter)

    class Meta:
        model = OverheadRate
        fields = ["id", "version", "work_center", "basis", "rate"]


class PurchasePriceSerializer(_InVersion):
    item = _code(Item)

    class Meta:
        model = PurchasePrice
        fields = ["id", "version", "item", "price"]


class RollupRequestSerializer(serializers.Serializer):
    version = serializers.SlugRelatedField(
        slug_field="code",
        queryset=CostVersion.objects.all(),
        required=False,
        help_text="Cost version code (default: the current version).",
    )


class CostRollupRunSerializer(serializers.ModelSerializer):
    version = serializers.SlugRelatedField(slug_field="code", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CostRollupRun
        fields = [
            "id",
            "version",
            "started_at",
            "finished_at",
            "created_by",
            "items_costed",
            "items_incomplete",
            "problems",
        ]


class ItemCostLineSerializer(serializers.ModelSerializer):
    component = serializers.SlugRelatedField(slug_field="code", read_only=True)
    work_center = serializers.SlugRelatedField(slug_field="code", read_only=True)
    equipment = serializers.SlugRelatedField(slug_field="code", read_only=True)
    skill = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ItemCostLine
        fields = [
            "line_no",
            "element",
            "component",
            "bom_line_no",
            "step_no",
            "operation",
            "work_center",
            "equipment",
            "skill",
            "quantity",
            "rate",
            "amount",
            "basis",
        ]


class ItemCostSerializer(serializers.ModelSerializer):
    version = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ItemCost
        fields = [
            "id",
            "version",
            "item",
            "lot_size",
            "material",
            "labour",
            "machine",
            "overhead",
            "total",
            "complete",
            "problems",
            "rollup",
        ]


class ItemCostDetailSerializer(ItemCostSerializer):
    lines = ItemCostLineSerializer(many=True, read_only=True)

    class Meta(ItemCostSerializer.Meta):
        fields = [*ItemCostSerializer.Meta.fields, "lines"]
