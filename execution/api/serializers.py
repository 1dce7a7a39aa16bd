from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api import ErrorEntrySerializer
from core.signatures import SignatureFieldsMixin, SignedListSerializer, SignedSerializerMixin
from planning.api.serializers import DeliveryRiskSerializer
from planning.models import OrderOperation, ProductionOrder
from resources.models import Equipment, MaterialLot, Operator, StockLocation

from ..models import (
    AlertStep,
    AlertType,
    DispatchDecision,
    EventApproval,
    IssueApproval,
    LabourBooking,
    MaterialIssue,
    MaterialRequirement,
    MaterialShortage,
    ProductionEvent,
    ProgressSnapshot,
    Severity,
    Task,
    WorkAlert,
)


class TaskSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    item = serializers.CharField(source="order.item.code")
    sequence = serializers.IntegerField(source="operation.sequence")
    operation = serializers.CharField(source="operation.name")
    operator = serializers.CharField(source="operator.badge", default=None, allow_null=True)
    equipment = serializers.CharField(source="equipment.code", default=None, allow_null=True)
    quantity = serializers.DecimalField(source="order.quantity", max_digits=18, decimal_places=4)
    pause_reason = serializers.CharField(
        source="pause_reason_shown",
        read_only=True,
        help_text=gettext_lazy("In the request's language."),
    )
    assignment_note = serializers.CharField(
        source="assignment_note_shown",
        read_only=True,
        help_text=gettext_lazy("In the request's language."),
    )

    class Meta:
        model = Task
        # *_id and *_params: the message id and parameters of a pause reason or assignment
        # note the system wrote (blank for an operator's words), core/texts.py.
        fields = [
            "id",
            "order",
            "item",
            "sequence",
            "operation",
            "status",
            "operator",
            "assignment_note",
            "assignment_note_id",
            "assignment_note_params",
            "equipment",
            "quantity",
            "quantity_good",
            "quantity_scrap",
            "started_at",
            "ended_at",
            "pause_reason",
            "pause_reason_id",
            "pause_reason_params",
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
    reason = serializers.CharField(
        source="reason_shown", read_only=True, help_text=gettext_lazy("In the request's language.")
    )

    class Meta:
        model = DispatchDecision
        # reason_id and reason_params: the reason's message id and parameters, for
        # integrators that render their own (core/texts.py).
        fields = [
            "id",
            "equipment",
            "task",
            "decided_at",
            "reason",
            "reason_id",
            "reason_params",
            "candidates",
        ]


@extend_schema_serializer(
    description=gettext_lazy(
        "One production event; each event of a batch is validated and answered on its own."
    )
)
class EventInputSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ProductionEvent.Kind.choices)
    task = serializers.IntegerField(required=False)
    order = serializers.CharField(required=False)
    sequence = serializers.IntegerField(required=False)
    operator = serializers.CharField(required=False, help_text=gettext_lazy("Operator badge"))
    equipment = serializers.CharField(required=False)
    quantity_good = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)
    quantity_scrap = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)
    reason = serializers.CharField(required=False)
    trace_code = serializers.CharField(required=False)
    occurred_at = serializers.DateTimeField(required=False)


@extend_schema_serializer(
    description=gettext_lazy(
        "One event's answer; a rejected one carries the API's error body (`detail`, `errors`)."
    )
)
class EventResultSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    code = serializers.IntegerField()
    id = serializers.IntegerField(required=False)
    detail = serializers.CharField(required=False)
    errors = ErrorEntrySerializer(many=True, required=False)


class ProductionEventSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    sequence = serializers.IntegerField(source="operation.sequence")
    operator = serializers.CharField(source="operator.badge", default=None, allow_null=True)
    equipment = serializers.CharField(source="equipment.code", default=None, allow_null=True)

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
                    {
                        "lot": gettext("No lot %(lot)s of %(item)s.")
                        % {"lot": code, "item": attrs["requirement"].item.code}
                    }
                )
            attrs["lot"] = lot
        return attrs


class IssueSerializer(serializers.ModelSerializer):
    lot = serializers.CharField(source="lot.code", default=None, allow_null=True)
    location = serializers.CharField(source="location.code")

    class Meta:
        model = MaterialIssue
        fields = ["id", "requirement", "lot", "location", "quantity", "external_id", "issued_at"]


class ApprovalSerializer(SignedSerializerMixin, serializers.ModelSerializer):
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
            "signatures",
        ]
        list_serializer_class = SignedListSerializer


@extend_schema_serializer(
    description=gettext_lazy(
        "An over-issue approved or rejected, signed: the planner's password and the "
        "reason (`reason`, or `note`; kept as the decision's note)."
    )
)
class DecisionInputSerializer(SignatureFieldsMixin):
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ShortageSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="requirement.order.number")
    sequence = serializers.IntegerField(source="requirement.operation.sequence")
    item = serializers.CharField(source="requirement.item.code")
    required = serializers.DecimalField(
        source="requirement.quantity_required", max_digits=18, decimal_places=4
    )
    requisition = serializers.CharField(source="requisition.number", default=None, allow_null=True)
    transfer_from = serializers.CharField(
        source="transfer_from.code", default=None, allow_null=True
    )

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
    barcode = serializers.CharField(
        max_length=200, help_text=gettext_lazy("ITEM*LOT*QTY as on the label")
    )
    location = serializers.SlugRelatedField(slug_field="code", queryset=StockLocation.objects.all())
    external_id = serializers.CharField(max_length=100)
    purchase_order = serializers.CharField(
        max_length=32,
        required=False,
        default="",
        allow_blank=True,
        help_text=gettext_lazy(
            "The purchase order received against (blank: the earliest open line)."
        ),
    )


# --- exceptions (WorkAlert) ---------------------------------------------------------------


class AlertStepSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", default=None, allow_null=True)
    text = serializers.CharField(
        source="text_shown", read_only=True, help_text=gettext_lazy("In the request's language.")
    )

    class Meta:
        model = AlertStep
        # text_id and text_params: the message id and parameters of a text the system wrote
        # (blank for a person's words), for integrators that render their own.
        fields = ["kind", "at", "by", "role", "text", "text_id", "text_params"]


class WorkAlertSerializer(serializers.ModelSerializer):
    equipment = serializers.CharField(source="equipment.code", default=None, allow_null=True)
    order = serializers.CharField(source="order.number", default=None, allow_null=True)
    operation = serializers.IntegerField(source="operation.sequence", default=None, allow_null=True)
    handler = serializers.CharField(source="handler.username", default=None, allow_null=True)
    requisition = serializers.CharField(source="requisition.number", default=None, allow_null=True)
    steps = AlertStepSerializer(many=True, read_only=True)
    description = serializers.CharField(
        source="description_shown",
        read_only=True,
        help_text=gettext_lazy("In the request's language."),
    )
    cause = serializers.CharField(
        source="cause_shown", read_only=True, help_text=gettext_lazy("In the request's language.")
    )

    class Meta:
        model = WorkAlert
        fields = [
            "id",
            "number",
            "external_id",
            "alert_type",
            "severity",
            "status",
            "description",
            "description_id",
            "description_params",
            "raised_via",
            "rule_name",
            "raised_at",
            "equipment",
            "order",
            "operation",
            "handler_role",
            "handler",
            "ack_deadline",
            "escalation_level",
            "acknowledged_at",
            "requisition",
            "impact",
            "link",
            "cause",
            "cause_id",
            "cause_params",
            "action_taken",
            "resolved_at",
            "verified_at",
            "steps",
        ]
        read_only_fields = fields


class RaiseSerializer(serializers.Serializer):
    alert_type = serializers.ChoiceField(choices=AlertType.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    description = serializers.CharField(max_length=2000)
    external_id = serializers.CharField(max_length=100, required=False)
    equipment = serializers.SlugRelatedField(
        slug_field="code", queryset=Equipment.objects.all(), required=False
    )
    order = serializers.SlugRelatedField(
        slug_field="number", queryset=ProductionOrder.objects.all(), required=False
    )
    sequence = serializers.IntegerField(
        required=False, help_text=gettext_lazy("Operation of the order")
    )
    lot = serializers.CharField(required=False)
    expected_downtime_minutes = serializers.IntegerField(min_value=0, required=False)

    def validate(self, attrs):
        sequence = attrs.pop("sequence", None)
        if sequence is not None:
            order = attrs.get("order")
            if order is None:
                raise serializers.ValidationError({"sequence": gettext("Name the order too.")})
            operation = OrderOperation.objects.filter(order=order, sequence=sequence).first()
            if operation is None:
                raise serializers.ValidationError(
                    {
                        "sequence": gettext("%(order)s has no operation %(sequence)s.")
                        % {"order": order.number, "sequence": sequence}
                    }
                )
            attrs["operation"] = operation
        code = attrs.pop("lot", None)
        if code:
            lot = MaterialLot.objects.filter(code=code).first()
            if lot is None:
                raise serializers.ValidationError(
                    {"lot": gettext("No lot %(lot)s.") % {"lot": code}}
                )
            attrs["lot"] = lot
        return attrs


class ResolveSerializer(serializers.Serializer):
    cause = serializers.CharField(max_length=2000)
    action = serializers.CharField(max_length=2000)


class BackupSerializer(serializers.Serializer):
    backup = serializers.SlugRelatedField(slug_field="code", queryset=Equipment.objects.all())


# --- progress ---------------------------------------------------------------------------


class ProgressSnapshotSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    sequence = serializers.IntegerField(source="operation.sequence", allow_null=True, default=None)
    operation_name = serializers.CharField(source="operation.name", allow_null=True, default=None)

    class Meta:
        model = ProgressSnapshot
        fields = [
            "id",
            "order",
            "operation",
            "sequence",
            "operation_name",
            "taken_at",
            "quantity_done",
            "quantity_planned_to_date",
            "completion_pct",
            "planned_pct",
            "remaining_hours",
            "actual_minutes_per_unit",
            "planned_minutes_per_unit",
            "predicted_end",
            "delay_hours",
            "lagging",
            "reasons",
        ]


class TaskOrderFieldsMixin(serializers.Serializer):
    """`order` and `sequence`: the order number and operation of a record kept on a task."""

    order = serializers.CharField(source="task.order.number")
    sequence = serializers.IntegerField(source="task.operation.sequence")


@extend_schema_serializer(
    description=gettext_lazy("A production event held for a supervisor's signed approval.")
)
class EventApprovalSerializer(TaskOrderFieldsMixin, serializers.ModelSerializer):
    work_center = serializers.CharField(source="task.operation.work_center.code")
    requested_by = serializers.CharField(
        source="requested_by.username", default=None, allow_null=True
    )
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)

    class Meta:
        model = EventApproval
        fields = [
            "id",
            "event_id",
            "kind",
            "task",
            "order",
            "sequence",
            "work_center",
            "payload",
            "reasons",
            "message",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "applied_event",
        ]


@extend_schema_serializer(
    description=gettext_lazy(
        "A signed approve/reject: the decider's password once more and the reason."
    )
)
class SignedDecisionSerializer(SignatureFieldsMixin):
    pass


@extend_schema_serializer(
    description=gettext_lazy(
        "`order` and `sequence`: the order number and operation of a record kept on a task."
    )
)
class LabourBookingSerializer(TaskOrderFieldsMixin, serializers.ModelSerializer):
    operator = serializers.CharField(source="operator.badge")
    minutes = serializers.DecimalField(max_digits=12, decimal_places=1, read_only=True)
    flagged = serializers.BooleanField(read_only=True)
    corrected_by = serializers.CharField(
        source="corrected_by.username", default=None, allow_null=True
    )

    class Meta:
        model = LabourBooking
        fields = [
            "id",
            "operator",
            "task",
            "order",
            "sequence",
            "started_at",
            "ended_at",
            "minutes",
            "excess_minutes",
            "flagged",
            "quantity_good",
            "quantity_scrap",
            "original_minutes",
            "correction_reason",
            "corrected_by",
            "corrected_at",
        ]


@extend_schema_serializer(
    description=gettext_lazy("A supervisor's signed correction of a booking's minutes.")
)
class LabourCorrectionSerializer(SignatureFieldsMixin):
    signature_meaning = "corrected"
    minutes = serializers.DecimalField(max_digits=7, decimal_places=1, min_value=0)


# --- the order board, as the board page shows it ------------------------------------------
# Quantities, percentages and hours as decimal strings (docs/api.md "Numbers and times"),
# like every other quantity of the API; the engine computes in floats.


def _qty(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=4, **kwargs)


def _pct(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class BoardReasonSerializer(serializers.Serializer):
    type = serializers.CharField()
    text = serializers.CharField()
    ref = serializers.CharField(
        help_text=gettext_lazy('The record behind it, as "<app>.<model>:<id>".')
    )


class BoardOperationSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(source="progress.sequence")
    name = serializers.CharField(source="progress.name")
    status = serializers.CharField(help_text=gettext_lazy("The operation's status."))
    task_status = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("Its task's, on the floor.")
    )
    colour = serializers.CharField(source="progress.colour")
    quantity_done = _qty(source="progress.quantity_done")
    quantity_scrap = _qty(source="progress.quantity_scrap")
    planned_by_now = _qty(source="progress.quantity_planned_to_date")
    attainment_pct = _pct(source="progress.attainment_pct")
    lagging = serializers.BooleanField(source="progress.lagging")
    work_center = serializers.CharField(source="detail.work_center__code", default="")
    equipment = serializers.SerializerMethodField()
    operator = serializers.CharField(
        source="detail.task__operator__name", default=None, allow_null=True
    )
    predicted_end = serializers.DateTimeField(source="progress.predicted_end", allow_null=True)
    reasons = BoardReasonSerializer(source="progress.reasons", many=True)

    def get_equipment(self, op) -> str | None:
        detail = op.detail or {}
        return detail.get("task__equipment__code") or detail.get("equipment__code") or None


@extend_schema_serializer(
    description=gettext_lazy(
        "One row of the order board: the order's colour by the attainment rule (≥ 90 % "
        "green, 50–89 % yellow, below red), what was planned by now against what is "
        "done, whether it lags, the predicted end and delay, the reasons, and its "
        "operations."
    )
)
class BoardRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="progress.id")
    number = serializers.CharField(source="progress.number")
    item = serializers.CharField(source="row.item__code")
    status = serializers.CharField(source="row.status")
    priority = serializers.IntegerField(source="row.priority")
    due_date = serializers.DateField(source="row.due_date", allow_null=True)
    colour = serializers.CharField(source="progress.colour")
    quantity = _qty(source="progress.quantity")
    quantity_done = _qty(source="progress.quantity_done")
    quantity_scrap = _qty(source="progress.quantity_scrap")
    planned_by_now = _qty(source="progress.quantity_planned_to_date")
    attainment_pct = _pct(source="progress.attainment_pct")
    completion_pct = _pct(source="progress.completion_pct")
    planned_pct = _pct(source="progress.planned_pct")
    lagging = serializers.BooleanField(source="progress.lagging")
    delayed = serializers.BooleanField(source="progress.delayed")
    delay_hours = _pct(source="progress.delay_hours")
    remaining_hours = _pct(source="progress.remaining_hours")
    planned_start = serializers.DateTimeField(source="progress.planned_start", allow_null=True)
    planned_end = serializers.DateTimeField(source="progress.planned_end", allow_null=True)
    predicted_end = serializers.DateTimeField(source="progress.predicted_end", allow_null=True)
    reasons = BoardReasonSerializer(source="progress.reasons", many=True)
    not_started = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "Nothing was planned by now: the attainment of 100 % means not started."
        )
    )
    delivery_risk = serializers.SerializerMethodField(
        help_text=gettext_lazy("The order's delivery risk, as the order endpoint gives it.")
    )
    operations = BoardOperationSerializer(many=True)

    def get_not_started(self, o) -> bool:
        return o.progress.quantity_planned_to_date <= 0

    @extend_schema_field(DeliveryRiskSerializer)
    def get_delivery_risk(self, o) -> dict | None:
        return DeliveryRiskSerializer(o.risk.as_dict()).data if o.risk else None


class BoardCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    green = serializers.IntegerField()
    yellow = serializers.IntegerField()
    red = serializers.IntegerField()
    lagging = serializers.IntegerField()
    delayed = serializers.IntegerField()
    at_risk = serializers.IntegerField(
        help_text=gettext_lazy("Late or at risk by the delivery risk.")
    )


class BoardSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text=gettext_lazy("The instant the figures are for."))
    counts = BoardCountsSerializer(
        help_text=gettext_lazy("Every open order in view, before `flag`.")
    )
    count = serializers.IntegerField(help_text=gettext_lazy("Rows matching, `flag` included."))
    results = BoardRowSerializer(many=True, help_text=gettext_lazy("At most `limit` rows."))
