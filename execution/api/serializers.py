from rest_framework import serializers

from core.api import ErrorEntrySerializer
from resources.models import Equipment, MaterialLot, Operator, StockLocation

from ..models import (
    DispatchDecision,
    IssueApproval,
    MaterialIssue,
    MaterialRequirement,
    MaterialShortage,
    ProductionEvent,
    Task,
)


class TaskSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    item = serializers.CharField(source="order.item.code")
    sequence = serializers.IntegerField(source="operation.sequence")
    operation = serializers.CharField(source="operation.name")
    operator = serializers.CharField(source="operator.badge", default=None)
    equipment = serializers.CharField(source="equipment.code", default=None)
    quantity = serializers.DecimalField(source="order.quantity", max_digits=18, decimal_places=4)

    class Meta:
        model = Task
        fields = [
            "id",
            "order",
            "item",
            "sequence",
            "operation",
            "status",
            "operator",
            "assignment_note",
            "equipment",
            "quantity",
            "quantity_good",
            "quantity_scrap",
            "started_at",
            "ended_at",
            "pause_reason",
        ]
        read_only_fields = fields


class TaskAssignSerializer(serializers.Serializer):
    operator = serializers.SlugRelatedField(
        slug_field="badge", queryset=Operator.objects.filter(active=True)
    )
    note = serializers.CharField(max_length=150, required=False, default="")


class DispatchInputSerializer(serializers.Serializer):
    equipment = serializers.SlugRelatedField(slug_field="code", queryset=Equipment.objects.all())


class DispatchDecisionSerializer(serializers.ModelSerializer):
    equipment = serializers.CharField(source="equipment.code")

    class Meta:
        model = DispatchDecision
        fields = ["id", "equipment", "task", "decided_at", "reason", "candidates"]


class EventInputSerializer(serializers.Serializer):
    """Shape of one production event (documentation; each event is validated by the service
    so that a batch answers per event)."""

    event_id = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ProductionEvent.Kind.choices)
    task = serializers.IntegerField(required=False)
    order = serializers.CharField(required=False)
    sequence = serializers.IntegerField(required=False)
    operator = serializers.CharField(required=False, help_text="Operator badge")
    equipment = serializers.CharField(required=False)
    quantity_good = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)
    quantity_scrap = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)
    reason = serializers.CharField(required=False)
    trace_code = serializers.CharField(required=False)
    occurred_at = serializers.DateTimeField(required=False)


class EventResultSerializer(serializers.Serializer):
    """One event's answer; a rejected one carries the API's error body (`detail`, `errors`)."""

    event_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    code = serializers.IntegerField()
    id = serializers.IntegerField(required=False)
    detail = serializers.CharField(required=False)
    errors = ErrorEntrySerializer(many=True, required=False)


class ProductionEventSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    sequence = serializers.IntegerField(source="operation.sequence")
    operator = serializers.CharField(source="operator.badge", default=None)
    equipment = serializers.CharField(source="equipment.code", default=None)

    class Meta:
        model = ProductionEvent
        fields = [
            "id",
            "event_id",
            "kind",
            "order",
            "sequence",
            "task",
            "operator",
            "equipment",
            "quantity_good",
            "quantity_scrap",
            "reason",
            "trace_code",
            "occurred_at",
            "received_at",
            "source",
        ]


class RequirementSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    sequence = serializers.IntegerField(source="operation.sequence")
    item = serializers.CharField(source="item.code")

    class Meta:
        model = MaterialRequirement
        fields = ["id", "order", "sequence", "item", "quantity_required", "quantity_issued"]


class IssueInputSerializer(serializers.Serializer):
    requirement = serializers.PrimaryKeyRelatedField(
        queryset=MaterialRequirement.objects.select_related("order", "operation", "item")
    )
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4)
    location = serializers.SlugRelatedField(slug_field="code", queryset=StockLocation.objects.all())
    lot = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100)
    reason = serializers.CharField(required=False, default="", allow_blank=True)

    def validate(self, attrs):
        code = attrs.pop("lot", "") or ""
        attrs["lot"] = None
        if code:
            lot = MaterialLot.objects.filter(item=attrs["requirement"].item, code=code).first()
            if lot is None:
                raise serializers.ValidationError(
                    {"lot": f"No lot {code} of {attrs['requirement'].item.code}."}
                )
            attrs["lot"] = lot
        return attrs


class IssueSerializer(serializers.ModelSerializer):
    lot = serializers.CharField(source="lot.code", default=None)
    location = serializers.CharField(source="location.code")

    class Meta:
        model = MaterialIssue
        fields = ["id", "requirement", "lot", "location", "quantity", "external_id", "issued_at"]


class ApprovalSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="requirement.order.number")
    item = serializers.CharField(source="requirement.item.code")
    location = serializers.CharField(source="location.code")

    class Meta:
        model = IssueApproval
        fields = [
            "id",
            "requirement",
            "order",
            "item",
            "location",
            "quantity",
            "external_id",
            "reason",
            "status",
            "requested_at",
            "decided_at",
            "decision_note",
            "issue",
        ]


class DecisionInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class ShortageSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="requirement.order.number")
    sequence = serializers.IntegerField(source="requirement.operation.sequence")
    item = serializers.CharField(source="requirement.item.code")
    required = serializers.DecimalField(
        source="requirement.quantity_required", max_digits=18, decimal_places=4
    )
    requisition = serializers.CharField(source="requisition.number", default=None)
    transfer_from = serializers.CharField(source="transfer_from.code", default=None)

    class Meta:
        model = MaterialShortage
        fields = [
            "id",
            "order",
            "sequence",
            "item",
            "required",
            "quantity_short",
            "status",
            "requisition",
            "transfer_from",
            "transfer_quantity",
            "raised_at",
            "resolved_at",
        ]


class ReceiptInputSerializer(serializers.Serializer):
    barcode = serializers.CharField(max_length=200, help_text="ITEM*LOT*QTY as on the label")
    location = serializers.SlugRelatedField(slug_field="code", queryset=StockLocation.objects.all())
    external_id = serializers.CharField(max_length=100)
