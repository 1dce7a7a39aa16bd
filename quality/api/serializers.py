"""Quality API shapes. Input serializers check the shape only; the services decide."""

import dataclasses
from datetime import date, datetime
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api import CleanModelSerializer
from core.models import Signature
from core.signatures import SignatureFieldsMixin, SignedListSerializer, SignedSerializerMixin

from ..models import (
    Characteristic,
    DefectCode,
    DefectRateRule,
    Disposition,
    InspectionPlan,
    InspectionRecord,
    Measurement,
    QualityHold,
    TraceCode,
)
from ..services.trace import MAX_BATCH

VALUES_SHAPE = gettext_noop("Give the values as {characteristic: value} or a list of them.")


class CharacteristicSerializer(serializers.ModelSerializer):
    lower_limit = serializers.DecimalField(
        max_digits=14, decimal_places=4, read_only=True, allow_null=True
    )
    upper_limit = serializers.DecimalField(
        max_digits=14, decimal_places=4, read_only=True, allow_null=True
    )

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


class DispositionSerializer(SignedSerializerMixin, serializers.ModelSerializer):
    decided_by = serializers.CharField(
        source="decided_by.username", default=None, allow_null=True, read_only=True
    )
    approved_by = serializers.CharField(
        source="approved_by.username", default=None, allow_null=True, read_only=True
    )

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
            "signatures",
        ]
        read_only_fields = fields
        list_serializer_class = SignedListSerializer


class InspectionRecordSerializer(SignedSerializerMixin, serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", read_only=True)
    plan_version = serializers.IntegerField(source="plan.version", read_only=True)
    order = serializers.CharField(source="order.number", read_only=True)
    sequence = serializers.IntegerField(source="operation.sequence", read_only=True)
    work_center = serializers.CharField(source="work_center.code", read_only=True)
    unit = serializers.CharField(
        source="unit.serial", default=None, allow_null=True, read_only=True
    )
    lot = serializers.CharField(source="lot.code", default=None, allow_null=True, read_only=True)
    defect_code = serializers.CharField(
        source="defect_code.code", default=None, allow_null=True, read_only=True
    )
    inspector = serializers.CharField(
        source="inspector.username", default=None, allow_null=True, read_only=True
    )
    reason = serializers.CharField(
        source="reason_shown", read_only=True, help_text=gettext_lazy("In the request's language.")
    )
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
            "reason_id",
            "reason_params",
            "inspector",
            "gauge",
            "inspected_at",
            "recorded_at",
            "corrects",
            "corrected_by",
            "measurements",
            "disposition",
            "signatures",
        ]
        read_only_fields = fields
        list_serializer_class = SignedListSerializer
        signed_related = ("disposition",)

    def get_corrected_by(self, obj) -> int | None:
        newer = getattr(obj, "corrected_by", None)
        return newer.pk if newer is not None else None

    def get_disposition(self, obj) -> dict | None:
        disposition = getattr(obj, "disposition", None)
        return DispositionSerializer(disposition).data if disposition is not None else None


@extend_schema_serializer(
    description=gettext_lazy(
        "One inspection: which unit or lot, at which operation, and the values read.\n"
        "\n"
        "`values` is {characteristic name: value} (numbers for measured values, "
        'true/false or ok/nok for attributes) or a list of {"characteristic": name, '
        '"value": …}.'
    )
)
class InspectionInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    order = serializers.CharField(max_length=32)
    sequence = serializers.IntegerField(min_value=0)
    trace_code = serializers.CharField(max_length=100, required=False, allow_blank=True)
    unit = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text=gettext_lazy("Serial number.")
    )
    lot = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text=gettext_lazy("Lot code.")
    )
    values = serializers.JSONField()
    defect_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    gauge = serializers.CharField(max_length=64, required=False, allow_blank=True)
    inspected_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate(self, attrs):
        if not any(attrs.get(k) for k in ("trace_code", "unit", "lot")):
            raise serializers.ValidationError(
                {"trace_code": gettext("Name the unit or lot: trace_code, unit (serial) or lot.")}
            )
        if not isinstance(attrs["values"], dict | list):
            raise serializers.ValidationError({"values": gettext(VALUES_SHAPE)})
        return attrs


@extend_schema_serializer(
    description=gettext_lazy(
        'A correction, signed by the corrector (password and reason; meaning "corrected").'
    )
)
class CorrectionInputSerializer(SignatureFieldsMixin):
    signature_meaning = Signature.Meaning.CORRECTED
    external_id = serializers.CharField(max_length=100)
    values = serializers.JSONField()
    defect_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    gauge = serializers.CharField(max_length=64, required=False, allow_blank=True)
    inspected_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate_values(self, value):
        if not isinstance(value, dict | list):
            raise serializers.ValidationError(gettext(VALUES_SHAPE))
        return value


@extend_schema_serializer(
    description=gettext_lazy(
        "A disposition; scrap and use as is are signed (password, and a reason or the note)."
    )
)
class DispositionInputSerializer(SignatureFieldsMixin):
    decision = serializers.ChoiceField(choices=Disposition.Decision.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        attrs.pop("meaning", None)  # follows from the decision
        return attrs


class QualityHoldSerializer(SignedSerializerMixin, serializers.ModelSerializer):
    item = serializers.CharField(source="routing_step.routing.item.code", read_only=True)
    step_no = serializers.IntegerField(source="routing_step.step_no", read_only=True)
    step_name = serializers.CharField(source="routing_step.name", read_only=True)
    work_center = serializers.CharField(source="work_center.code", read_only=True)
    equipment = serializers.CharField(
        source="equipment.code", default=None, allow_null=True, read_only=True
    )
    alert_number = serializers.CharField(
        source="alert.number", default=None, allow_null=True, read_only=True
    )
    reason = serializers.CharField(
        source="reason_shown", read_only=True, help_text=gettext_lazy("In the request's language.")
    )
    released_by = serializers.CharField(
        source="released_by.username", default=None, allow_null=True, read_only=True
    )

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
            "reason_id",
            "reason_params",
            "defect_rate_pct",
            "sample_size",
            "alert",
            "alert_number",
            "placed_at",
            "released_by",
            "released_at",
            "release_reason",
            "signatures",
        ]
        read_only_fields = fields
        list_serializer_class = SignedListSerializer


@extend_schema_serializer(
    description=gettext_lazy(
        "Release a hold: the reason, signed with the quality supervisor's password."
    )
)
class HoldReleaseInputSerializer(SignatureFieldsMixin):
    signature_meaning = Signature.Meaning.RELEASED
    reason = serializers.CharField(max_length=300)


# --- trace -------------------------------------------------------------------------------


def plain(value):
    """Dataclasses, Decimals and datetimes as JSON-ready values (quantities as strings,
    like the rest of the API)."""
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class TraceCodeSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")
    order = serializers.CharField(source="order.number", allow_null=True, default=None)
    unit = serializers.CharField(source="unit.serial", allow_null=True, default=None)
    lot = serializers.CharField(source="lot.code", allow_null=True, default=None)
    label_url = serializers.SerializerMethodField()

    class Meta:
        model = TraceCode
        fields = ["code", "item", "order", "unit", "lot", "issued_at", "printed_at", "label_url"]

    def get_label_url(self, obj) -> str:
        try:
            return reverse("quality:label", kwargs={"code": obj.code})
        except Exception:  # the pages are not routed (API-only deployment)
            return ""


class TraceCodeIssueSerializer(serializers.Serializer):
    order = serializers.CharField(max_length=32)
    count = serializers.IntegerField(min_value=1, max_value=MAX_BATCH)
    request_id = serializers.CharField(max_length=100)


# --- reports -------------------------------------------------------------------------------

PCT = {"max_digits": 6, "decimal_places": 1, "allow_null": True}
QTY = {"max_digits": 18, "decimal_places": 4}


class ParetoBarSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    share_pct = serializers.DecimalField(**PCT)
    cumulative_pct = serializers.DecimalField(**PCT)


class OperationSerializer(serializers.Serializer):
    item = serializers.CharField()
    sequence = serializers.IntegerField()
    name = serializers.CharField()
    work_center = serializers.CharField()
    area = serializers.CharField()


class OperationYieldSerializer(serializers.Serializer):
    operation = OperationSerializer()
    source = serializers.ChoiceField(choices=["inspection", "events"])
    units = serializers.DecimalField(**QTY)
    first_pass = serializers.DecimalField(**QTY)
    failed = serializers.DecimalField(**QTY)
    fpy_pct = serializers.DecimalField(**PCT)


class LineYieldSerializer(serializers.Serializer):
    area = serializers.CharField()
    item = serializers.CharField()
    operations = OperationYieldSerializer(many=True)
    units = serializers.DecimalField(**QTY)
    first_pass = serializers.DecimalField(**QTY)
    rty_pct = serializers.DecimalField(**PCT)
    simple_pct = serializers.DecimalField(**PCT)


class YieldReportSerializer(serializers.Serializer):
    operations = OperationYieldSerializer(many=True)
    lines = LineYieldSerializer(many=True)


class TrendPointSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    start = serializers.DateField()
    inspected = serializers.IntegerField()
    failed = serializers.IntegerField()
    defect_rate_pct = serializers.DecimalField(**PCT)
    units = serializers.IntegerField()
    first_pass = serializers.IntegerField()
    fpy_pct = serializers.DecimalField(**PCT)


class MeasurementSerializer(serializers.Serializer):
    characteristic = serializers.CharField()
    value = serializers.CharField()
    unit = serializers.CharField()
    passed = serializers.BooleanField()


class TraceLineSerializer(serializers.Serializer):
    record_id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    operation = serializers.CharField()
    work_center = serializers.CharField()
    plan = serializers.CharField()
    attempt_no = serializers.IntegerField(allow_null=True)
    result = serializers.CharField()
    superseded = serializers.BooleanField()
    corrects_id = serializers.IntegerField(allow_null=True)
    corrected_by_id = serializers.IntegerField(allow_null=True)
    defect_code = serializers.CharField()
    defect_name = serializers.CharField()
    reason = serializers.CharField()
    measurements = MeasurementSerializer(many=True)
    inspector = serializers.CharField()
    gauge = serializers.CharField()
    inspected_at = serializers.DateTimeField()
    disposition = serializers.CharField()
    disposition_note = serializers.CharField()
    decided_by = serializers.CharField()
    approved_by = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)


class SubjectTraceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    trace_code = serializers.CharField()
    inspected = serializers.BooleanField()
    first_pass = serializers.BooleanField(allow_null=True)
    failed = serializers.BooleanField()
    scrapped = serializers.BooleanField()
    inspections = TraceLineSerializer(many=True, source="lines")


class OrderSummarySerializer(serializers.Serializer):
    subjects = serializers.IntegerField()
    inspected = serializers.IntegerField()
    passed_first_time = serializers.IntegerField()
    failed = serializers.IntegerField()
    scrapped = serializers.IntegerField()
    first_pass_pct = serializers.DecimalField(**PCT)


class OrderQualitySerializer(serializers.Serializer):
    order = serializers.CharField(source="order.number")
    item = serializers.CharField(source="order.item.code")
    quantity = serializers.DecimalField(source="order.quantity", **QTY)
    summary = OrderSummarySerializer()
    subjects = SubjectTraceSerializer(many=True)
