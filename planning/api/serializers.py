from rest_framework import serializers

from core.api import CleanModelSerializer
from resources.models import Equipment, Item, Skill, WorkCenter

from ..models import Bom, BomLine, Routing, RoutingStep


class BomLineSerializer(CleanModelSerializer):
    component = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())

    class Meta:
        model = BomLine
        fields = ["line_no", "component", "quantity", "scrap_pct", "operation_step_no"]


class BomSerializer(CleanModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    lines = BomLineSerializer(many=True, read_only=True)

    class Meta:
        model = Bom
        fields = [
            "id",
            "item",
            "version",
            "base_quantity",
            "effective_from",
            "effective_to",
            "description",
            "lines",
        ]


class RoutingStepSerializer(CleanModelSerializer):
    work_center = serializers.SlugRelatedField(slug_field="code", queryset=WorkCenter.objects.all())
    eligible_equipment = serializers.SlugRelatedField(
        slug_field="code", queryset=Equipment.objects.all(), many=True
    )
    required_skill = serializers.SlugRelatedField(
        slug_field="code", queryset=Skill.objects.all(), allow_null=True
    )

    class Meta:
        model = RoutingStep
        fields = [
            "step_no",
            "name",
            "work_center",
            "eligible_equipment",
            "setup_minutes",
            "run_minutes_per_unit",
            "required_skill",
            "min_skill_level",
            "inspection_plan_ref",
        ]


class RoutingSerializer(CleanModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    steps = RoutingStepSerializer(many=True, read_only=True)

    class Meta:
        model = Routing
        fields = ["id", "item", "version", "effective_from", "effective_to", "description", "steps"]
