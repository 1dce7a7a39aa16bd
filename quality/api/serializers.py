"""Quality API shapes. Input serializers check the shape only; the services decide."""

from rest_framework import serializers

from core.api import CleanModelSerializer

from ..models import (
    Characteristic,
    DefectCode,
    DefectRateRule,
    Disposition,
    InspectionPlan,
    InspectionRecord,
    Measurement,
    QualityHold,
)


class CharacteristicSerializer(serializers.ModelSerializer):
    lower_limit = serializers.DecimalField(max_digits=14, decimal_places=4, read_only=True)
    upper_limit = serializers.DecimalField(max_digits=14, decimal_places=4, read_only=True)

    class Meta:
        model = Characteristic
        fields = [
            "id",
            "name",
            "kind",
            "nominal",
            "lower_tolerance",
            "upper_tolerance",
            "lower_limit",
            "upper_limit",
            "unit",
            "description",
        ]


class InspectionPlanSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="routing_step.routing.item.code", read_only=True)
    step_no = serializers.IntegerField(source="routing_step.step_no", read_only=True)
    step_name = serializers.CharField(source="routing_step.name", read_only=True)
    work_center = serializers.CharField(source="routing_step.work_center.code", read_only=True)
    characteristics = CharacteristicSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionPlan
        fields = [
            "id",
            "code",
            "version",
            "active",
            "routing_step",
            "item",
            "step_no",
            "step_name",
            "work_center",
            "sampling",
            "sample_every",
            "gate",
            "characteristics",
            "created_at",
        ]
        read_only_fields = fields


class CharacteristicInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=Characteristic.Kind.choices)
    nominal = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True
    )
    lower_tolerance = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True
    )
    upper_tolerance = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True
    )
    unit = serializers.CharField(max_length=16, required=False, allow_blank=True)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class PlanVersionInputSerializer(serializers.Serializer):
    characteristics = CharacteristicInputSerializer(many=True, required=False)
    sampling = serializers.ChoiceField(choices=InspectionPlan.Sampling.choices, required=False)
    sample_every = serializers.IntegerField(min_value=1, required=False)
    gate = serializers.BooleanField(required=False)


class DefectCodeSerializer(CleanModelSerializer):
    class Meta:
        model = DefectCode
        fields = ["id", "code", "name"]


class DefectRateRuleSerializer(CleanModelSerializer):
    class Meta:
        model = DefectRateRule
        fields = ["id", "routing_step", "work_center", "threshold_pct", "min_sample", "window"]


class InspectionMeasurementSerializer(serializers.ModelSerializer):
    characteristic = serializers.CharField(source="characteristic.name", read_only=True)
    kind = serializers.CharField(source="characteristic.kind", read_only=True)

    class Meta:
        model = Measurement
        fields = ["characteristic", "kind", "value", "ok", "passed"]


class DispositionSerializer(serializers.ModelSerializer):
    decided_by = serializers.CharField(source="decided_by.username", default=None, read_only=True)
    approved_by = serializers.CharField(source="approved_by.username", default=None, read_only=True)

    class Meta:
        model = Disposition
        fields = [
            "id",
            "record",
            "decision",
            "note",
            "decided_by",
            "approved_by",
            "decided_at",
            "quantity_moved",
            "moved_task",
            "moved_order",
            "moved_back_at",
            "quantity_moved_back",
        ]
        read_only_fields = fields


class InspectionRecordSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", read_only=True)
    plan_version = serializers.IntegerField(source="plan.version", read_only=True)
    order = serializers.CharField(source="order.number", read_only=True)
    sequence = serializers.IntegerField(source="operation.sequence", read_only=True)
    work_center = serializers.CharField(source="work_center.code", read_only=True)
    unit = serializers.CharField(source="unit.serial", default=None, read_only=True)
    lot = serializers.CharField(source="lot.code", default=None, read_only=True)
    defect_code = serializers.CharField(source="defect_code.code", default=None, read_only=True)
    inspector = serializers.CharField(source="inspector.username", default=None, read_only=True)
    corrected_by = serializers.SerializerMethodField()
    measurements = InspectionMeasurementSerializer(many=True, read_only=True)
    disposition = serializers.SerializerMethodField()

    class Meta:
        model = InspectionRecord
        fields = [
            "id",
            "external_id",
            "plan",
            "plan_version",
            "order",
            "sequence",
            "work_center",
            "unit",
            "lot",
            "result",
            "defect_code",
            "reason",
            "inspector",
            "gauge",
            "inspected_at",
            "recorded_at",
            "corrects",
            "corrected_by",
            "measurements",
            "disposition",
        ]
        read_only_fields = fields

    def get_corrected_by(self, obj) -> int | None:
        newer = getattr(obj, "corrected_by", None)
        return newer.pk if newer is not None else None

    def get_disposition(self, obj) -> dict | None:
        disposition = getattr(obj, "disposition", None)
        return DispositionSerializer(disposition).data if disposition is not None else None


class InspectionInputSerializer(serializers.Serializer):
    """One inspection: which unit or lot, at which operation, and the values read.

    `values` is {characteristic name: value} (numbers for measured values, true/false or
    ok/nok for attributes) or a list of {"characteristic": name, "value": …}."""

    external_id = serializers.CharField(max_length=100)
    order = serializers.CharField(max_length=32)
    sequence = serializers.IntegerField(min_value=0)
    trace_code = serializers.CharField(max_length=100, required=False, allow_blank=True)
    unit = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="Serial number."
    )
    lot = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="Lot code."
    )
    values = serializers.JSONField()
    defect_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    gauge = serializers.CharField(max_length=64, required=False, allow_blank=True)
    inspected_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate(self, attrs):
        if not any(attrs.get(k) for k in ("trace_code", "unit", "lot")):
            raise serializers.ValidationError(
                {"trace_code": "Name the unit or lot: trace_code, unit (serial) or lot."}
            )
        if not isinstance(attrs["values"], dict | list):
            raise serializers.ValidationError(
                {"values": "Give the values as {characteristic: value} or a list of them."}
            )
        return attrs


class CorrectionInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    values = serializers.JSONField()
    defect_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    gauge = serializers.CharField(max_length=64, required=False, allow_blank=True)
    inspected_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate_values(self, value):
        if not isinstance(value, dict | list):
            raise serializers.ValidationError(
                "Give the values as {characteristic: value} or a list of them."
            )
        return value


class DispositionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Disposition.Decision.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class QualityHoldSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="routing_step.routing.item.code", read_only=True)
    step_no = serializers.IntegerField(source="routing_step.step_no", read_only=True)
    step_name = serializers.CharField(source="routing_step.name", read_only=True)
    work_center = serializers.CharField(source="work_center.code", read_only=True)
    equipment = serializers.CharField(source="equipment.code", default=None, read_only=True)
    alert_number = serializers.CharField(source="alert.number", default=None, read_only=True)
    released_by = serializers.CharField(source="released_by.username", default=None, read_only=True)

    class Meta:
        model = QualityHold
        fields = [
            "id",
            "status",
            "item",
            "routing_step",
            "step_no",
            "step_name",
            "work_center",
            "equipment",
            "reason",
            "defect_rate_pct",
            "sample_size",
            "alert",
            "alert_number",
            "placed_at",
            "released_by",
            "released_at",
            "release_reason",
        ]
        read_only_fields = fields


class HoldReleaseInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
