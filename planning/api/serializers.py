from decimal import Decimal

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api import CleanModelSerializer
from resources.models import Equipment, Item, Skill, WorkCenter

from ..models import (
    ActionMessage,
    Bom,
    BomLine,
    Forecast,
    ImportJob,
    MpsEntry,
    MrpRun,
    OrderOperation,
    Peg,
    PlannedOrder,
    ProductionOrder,
    PurchaseRequisition,
    Routing,
    RoutingStep,
    SalesOrder,
    ScheduleAssignment,
    ScheduleRun,
)
from ..selectors.imports import import_error_shown
from ..selectors.risk import delivery_risk


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
            "id",
            "step_no",
            "name",
            "work_center",
            "eligible_equipment",
            "setup_minutes",
            "setup_family",
            "run_minutes_per_unit",
            "required_skill",
            "min_skill_level",
            "inspection_plan_ref",
            "counted_by_machine",
        ]


class RoutingSerializer(CleanModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    steps = RoutingStepSerializer(many=True, read_only=True)

    class Meta:
        model = Routing
        fields = ["id", "item", "version", "effective_from", "effective_to", "description", "steps"]


class SalesOrderSerializer(CleanModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    # What the plant expects (read-only): open exceptions, and the shop floor's prediction
    # for its open production orders (annotated by the viewset's queryset).
    predicted_delay_hours = serializers.DecimalField(
        max_digits=10, decimal_places=2, read_only=True, allow_null=True, default=None
    )
    predicted_end = serializers.DateTimeField(read_only=True, allow_null=True, default=None)
    delay_note = serializers.CharField(
        source="delay_note_shown",
        read_only=True,
        help_text=gettext_lazy("In the request's language."),
    )

    class Meta:
        model = SalesOrder
        fields = [
            "id",
            "number",
            "external_ref",
            "customer",
            "item",
            "quantity",
            "due_date",
            "priority",
            "status",
            "expected_delay_minutes",
            "delay_note",
            "delay_note_id",
            "delay_note_params",
            "predicted_delay_hours",
            "predicted_end",
        ]
        # delay_note_id and delay_note_params: the note's message id and parameters, for
        # integrators that render their own (core/texts.py).
        read_only_fields = [
            "expected_delay_minutes",
            "delay_note",
            "delay_note_id",
            "delay_note_params",
        ]


class ForecastSerializer(CleanModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())

    class Meta:
        model = Forecast
        fields = ["id", "item", "period_start", "quantity"]


class MpsEntrySerializer(CleanModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())

    class Meta:
        model = MpsEntry
        fields = ["id", "item", "period_start", "bucket", "quantity", "note"]


class OrderOperationSerializer(serializers.ModelSerializer):
    work_center = serializers.CharField(source="work_center.code", read_only=True)
    equipment = serializers.CharField(
        source="equipment.code", default=None, allow_null=True, read_only=True
    )
    eligible_equipment = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    required_skill = serializers.CharField(
        source="required_skill.code", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = OrderOperation
        fields = [
            "id",
            "sequence",
            "name",
            "work_center",
            "eligible_equipment",
            "equipment",
            "setup_minutes",
            "setup_family",
            "run_minutes_per_unit",
            "required_skill",
            "min_skill_level",
            "status",
            "frozen",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "quantity_done",
            "quantity_scrap",
            "counted_by_machine",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    description=gettext_lazy(
        "The order's delivery risk: the same figure the "
        "order list, the order page, the sales orders and the board show."
    )
)
class DeliveryRiskSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=["late", "at_risk", "on_time", "not_scheduled", "closed"], read_only=True
    )
    at_risk = serializers.BooleanField(read_only=True, help_text=gettext_lazy("Late or at risk."))
    expected_end = serializers.DateTimeField(read_only=True, allow_null=True)
    late_minutes = serializers.IntegerField(read_only=True)
    schedule_late = serializers.BooleanField(read_only=True)
    predicted_late = serializers.BooleanField(read_only=True)
    exception_delay_minutes = serializers.IntegerField(read_only=True)
    blocked = serializers.BooleanField(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)


@extend_schema_serializer(
    description=gettext_lazy("The MRP run and planned order an order was firmed from.")
)
class FirmedFromSerializer(serializers.Serializer):
    mrp_run = serializers.IntegerField(source="run_id", read_only=True)
    planned_order = serializers.CharField(source="ref", read_only=True)


class ProductionOrderSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code", read_only=True)
    firmed_from = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "The MRP run and planned order the order was firmed from; null for an order "
            "made otherwise."
        )
    )
    sales_order = serializers.CharField(
        source="sales_order.number", default=None, allow_null=True, read_only=True
    )
    operations = OrderOperationSerializer(many=True, read_only=True)
    delivery_risk = serializers.SerializerMethodField()

    @extend_schema_field(FirmedFromSerializer(allow_null=True))
    def get_firmed_from(self, order) -> dict | None:
        planned = getattr(order, "planned_from", None)  # none: the reverse one-to-one raises
        return FirmedFromSerializer(planned).data if planned is not None else None

    @extend_schema_field(DeliveryRiskSerializer)
    def get_delivery_risk(self, order) -> dict:
        risk = getattr(order, "risk", None) or delivery_risk(order)
        return DeliveryRiskSerializer(risk.as_dict()).data

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.prediction_open:
            # The shop floor's prediction is about work on the floor: not for an order
            # before release or after it completed or was cancelled.
            data.update(
                predicted_end=None,
                predicted_delay_hours=None,
                delay_reasons=[],
                delay_predicted_at=None,
            )
        return data

    class Meta:
        model = ProductionOrder
        fields = [
            "id",
            "number",
            "external_ref",
            "item",
            "quantity",
            "due_date",
            "priority",
            "status",
            "sales_order",
            "planned_start",
            "planned_end",
            "quantity_done",
            "quantity_scrap",
            "released_at",
            "completed_at",
            "completion_reason",
            "note",
            "firmed_from",
            "predicted_end",
            "predicted_delay_hours",
            "delay_reasons",
            "delay_predicted_at",
            "delivery_risk",
            "operations",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    description=gettext_lazy(
        "Input for creating an order; the service copies the operations from the routing."
    )
)
class ProductionOrderCreateSerializer(serializers.Serializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    quantity = serializers.DecimalField(
        max_digits=18, decimal_places=4, min_value=Decimal("0.0001")
    )
    due_date = serializers.DateField()
    priority = serializers.IntegerField(min_value=1, max_value=9, default=5)
    number = serializers.CharField(max_length=32, required=False)
    sales_order = serializers.SlugRelatedField(
        slug_field="number", queryset=SalesOrder.objects.all(), required=False, allow_null=True
    )
    status = serializers.ChoiceField(choices=["draft", "planned"], default="draft")
    note = serializers.CharField(max_length=200, required=False, default="")
    external_ref = serializers.CharField(max_length=100, required=False, allow_null=True)

    def validate_number(self, value):
        if ProductionOrder.objects.filter(number=value).exists():
            raise serializers.ValidationError(
                gettext("Order %(number)s already exists.") % {"number": value}
            )
        return value


class PlanCheckInputSerializer(serializers.Serializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    quantity = serializers.DecimalField(
        max_digits=18, decimal_places=4, min_value=Decimal("0.0001")
    )
    requested_per_day = serializers.DecimalField(
        max_digits=18, decimal_places=4, min_value=Decimal("0.0001")
    )
    start_day = serializers.DateField(required=False)


class LoadQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    days = serializers.IntegerField(min_value=1, max_value=366, default=14)
    work_center = serializers.CharField(required=False)


def _minutes():
    return serializers.DecimalField(max_digits=18, decimal_places=1)


@extend_schema_serializer(
    description=gettext_lazy("Minutes and percent as decimal strings with one place (docs/api.md).")
)
class LoadCellSerializer(serializers.Serializer):
    work_center = serializers.CharField()
    day = serializers.DateField()
    available_minutes = _minutes()
    load_minutes = _minutes()
    overload_minutes = _minutes()
    load_percent = _minutes()


class CapacityLoadSerializer(serializers.Serializer):
    start = serializers.DateField()
    last = serializers.DateField()
    cells = LoadCellSerializer(many=True)


class PlanDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    capacity = serializers.DecimalField(max_digits=18, decimal_places=2)
    planned = serializers.DecimalField(max_digits=18, decimal_places=4)


class BottleneckSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    work_center = serializers.CharField()
    equipment = serializers.CharField(allow_null=True)


class PlanCheckSerializer(serializers.Serializer):
    item = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4)
    requested_per_day = serializers.DecimalField(max_digits=18, decimal_places=4)
    capped_per_day = serializers.DecimalField(max_digits=18, decimal_places=4)
    capped = serializers.BooleanField()
    requested_finish = serializers.DateField(allow_null=True)
    capped_finish = serializers.DateField(allow_null=True)
    delay_days = serializers.IntegerField()
    bottleneck = BottleneckSerializer()
    days = PlanDaySerializer(many=True)
    overloads = LoadCellSerializer(many=True)


class PegSerializer(serializers.ModelSerializer):
    class Meta:
        model = Peg
        fields = ["demand_kind", "demand_ref", "top_demand_ref", "quantity"]


class PlannedOrderSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")
    pegs = PegSerializer(many=True, read_only=True)
    production_order = serializers.CharField(
        source="production_order.number", default=None, allow_null=True, read_only=True
    )
    requisition = serializers.CharField(
        source="requisition.number", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = PlannedOrder
        fields = [
            "id",
            "run",
            "ref",
            "item",
            "kind",
            "quantity",
            "start_date",
            "due_date",
            "status",
            "production_order",
            "requisition",
            "pegs",
        ]
        read_only_fields = fields


class ActionMessageSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")

    class Meta:
        model = ActionMessage
        fields = ["kind", "item", "reference", "text", "date", "suggested_date"]


class MrpRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = MrpRun
        fields = [
            "id",
            "status",
            "progress",
            "planning_date",
            "created_at",
            "started_at",
            "finished_at",
            "error",
        ]
        read_only_fields = [
            "status",
            "progress",
            "created_at",
            "started_at",
            "finished_at",
            "error",
        ]
        extra_kwargs = {"planning_date": {"required": False}}


class FirmResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    number = serializers.CharField()
    id = serializers.IntegerField()


class ScheduleRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduleRun
        fields = [
            "id",
            "status",
            "progress",
            "time_limit_seconds",
            "created_at",
            "started_at",
            "finished_at",
            "horizon_start",
            "solver_status",
            "weighted_tardiness",
            "makespan_minutes",
            "bound",
            "heuristic_weighted_tardiness",
            "heuristic_makespan_minutes",
            "operation_count",
            "summary",
            "error",
        ]
        read_only_fields = [f for f in fields if f != "time_limit_seconds"]
        extra_kwargs = {"time_limit_seconds": {"min_value": 1, "max_value": 300, "required": False}}


class ScheduleAssignmentSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="operation.order.number")
    sequence = serializers.IntegerField(source="operation.sequence")
    equipment = serializers.CharField(source="equipment.code")

    class Meta:
        model = ScheduleAssignment
        fields = ["order", "sequence", "part", "equipment", "start", "end"]


class OrderCompleteSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=300,
        required=False,
        default="",
        allow_blank=True,
        help_text=gettext_lazy(
            "Required when the order is short of its quantity or has operations not done."
        ),
    )


class PurchaseRequisitionSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    reason = serializers.CharField(
        source="reason_shown", read_only=True, help_text=gettext_lazy("In the request's language.")
    )

    class Meta:
        model = PurchaseRequisition
        fields = [
            "id",
            "number",
            "item",
            "quantity",
            "need_date",
            "urgent",
            "reason",
            # The reason's message id and parameters when the system wrote it (blank when
            # a person typed it), for a client that keeps its own texts.
            "reason_id",
            "reason_params",
            "status",
            "purchase_order_ref",
            "closed_reason",
            "created_at",
        ]
        read_only_fields = fields


class RequisitionConfirmSerializer(serializers.Serializer):
    purchase_order_ref = serializers.CharField(max_length=100)


class RequisitionCloseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class ImportJobErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        help_text=gettext_lazy("As a spreadsheet numbers it; 0: the whole file.")
    )
    column = serializers.CharField(help_text=gettext_lazy("Blank: no single column."))
    message = serializers.CharField(help_text=gettext_lazy("In the request's language."))
    message_id = serializers.CharField(
        help_text=gettext_lazy("The message's id (blank: stored as shown).")
    )
    params = serializers.DictField(help_text=gettext_lazy("The message's parameters."))


@extend_schema_serializer(
    description=gettext_lazy(
        "A background import of a master-data file and its report (read only)."
    )
)
class ImportJobSerializer(serializers.ModelSerializer):
    errors = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "file_name",
            "dry_run",
            "kind",
            "rows_total",
            "rows_done",
            "new",
            "updated",
            "unchanged",
            "error_count",
            "errors",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ImportJobErrorSerializer(many=True))
    def get_errors(self, job) -> list[dict]:
        return [
            {"message_id": "", "params": {}, **import_error_shown(entry)}
            for entry in job.errors or []
            if isinstance(entry, dict)
        ]
