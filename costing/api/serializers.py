"""Shapes and input validation of the costing API; the services decide."""

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from core.api import CleanModelSerializer
from planning.models import ProductionOrder
from resources.models import Equipment, Item, MaterialLot, Skill, WorkCenter

from ..engines import variance as variance_engine
from ..filtersets import month_parse
from ..models import (
    CostRollupRun,
    CostVersion,
    ItemCost,
    ItemCostLine,
    LabourRate,
    LotPrice,
    MachineRate,
    OrderCostEntry,
    OverheadRate,
    PurchasePrice,
    TrainingNeed,
)
from ..words import variance_cause


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
        help_text=gettext_lazy("Cost version code (default: the current version)."),
    )


@extend_schema_serializer(
    description=gettext_lazy(
        "A roll-up problem's stored form: its English, message id and parameters "
        "(core/texts.py; the id blank for a problem stored before problems had ids), "
        "for integrators that render their own."
    )
)
class ProblemDetailSerializer(serializers.Serializer):
    text = serializers.CharField(help_text=gettext_lazy("In English, as stored."))
    id = serializers.CharField(allow_blank=True)
    params = serializers.DictField()


def _problems_field() -> serializers.ListField:
    """`problems`: the stored problems in the request's language (a list of strings, as it
    always was); `problems_detail` gives their ids and parameters."""
    return serializers.ListField(
        source="problems_shown",
        child=serializers.CharField(),
        read_only=True,
        help_text=gettext_lazy("What is missing, one sentence each, in the request's language."),
    )


class CostRollupRunSerializer(serializers.ModelSerializer):
    version = serializers.SlugRelatedField(slug_field="code", read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    problems = _problems_field()
    problems_detail = ProblemDetailSerializer(many=True, read_only=True)

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
            "problems_detail",
        ]


class ItemCostLineSerializer(serializers.ModelSerializer):
    component = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    work_center = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    equipment = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    skill = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    basis = serializers.CharField(
        source="basis_shown", read_only=True, help_text=gettext_lazy("In the request's language.")
    )

    class Meta:
        model = ItemCostLine
        # basis_id and basis_params: the basis's message id and parameters (core/texts.py;
        # blank on lines stored before), for integrators that render their own.
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
            "basis_id",
            "basis_params",
        ]


class ItemCostSerializer(serializers.ModelSerializer):
    version = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    problems = _problems_field()
    problems_detail = ProblemDetailSerializer(many=True, read_only=True)

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
            "problems_detail",
            "rollup",
        ]


class ItemCostDetailSerializer(ItemCostSerializer):
    lines = ItemCostLineSerializer(many=True, read_only=True)

    class Meta(ItemCostSerializer.Meta):
        fields = [*ItemCostSerializer.Meta.fields, "lines"]


# --- actual cost ------------------------------------------------------------------------------


class LotPriceSerializer(CleanModelSerializer):
    item = serializers.SlugRelatedField(source="lot.item", slug_field="code", read_only=True)
    lot = serializers.PrimaryKeyRelatedField(
        queryset=MaterialLot.objects.all(),
        help_text=gettext_lazy("The lot's id."),
        # Declared by hand, the field loses the unique check ModelSerializer would add: a
        # second price for one lot is a 400 naming the lot, not a database error.
        validators=[
            UniqueValidator(
                queryset=LotPrice.objects.all(),
                message=gettext_lazy("This lot has a price already: change that one."),
            )
        ],
    )
    lot_code = serializers.CharField(source="lot.code", read_only=True)

    class Meta:
        model = LotPrice
        fields = ["id", "lot", "lot_code", "item", "price", "note"]


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-12"})
class PeriodField(serializers.DateField):
    """A month, YYYY-MM (a cost period)."""


class OrderCostEntrySerializer(serializers.ModelSerializer):
    order = serializers.SlugRelatedField(slug_field="number", read_only=True)
    item = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    lot = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    work_center = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    equipment = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    operator = serializers.SlugRelatedField(slug_field="badge", read_only=True, allow_null=True)
    version = serializers.SlugRelatedField(slug_field="code", read_only=True)
    period = PeriodField(format="%Y-%m", read_only=True)
    basis = serializers.CharField(
        source="basis_shown", read_only=True, help_text=gettext_lazy("In the request's language.")
    )

    class Meta:
        model = OrderCostEntry
        # basis_id and basis_params: as on a cost line (ItemCostLineSerializer).
        fields = [
            "id",
            "order",
            "step_no",
            "element",
            "item",
            "lot",
            "work_center",
            "equipment",
            "operator",
            "quantity",
            "rate",
            "amount",
            "version",
            "posted_at",
            "period",
            "late",
            "source_key",
            "material_issue",
            "labour_booking",
            "production_event",
            "basis",
            "basis_id",
            "basis_params",
        ]


class ElementCostSerializer(serializers.Serializer):
    element = serializers.CharField()
    standard_unit = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    standard = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    actual = serializers.DecimalField(max_digits=20, decimal_places=4)
    difference = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)


@extend_schema_serializer(
    description=gettext_lazy(
        "An order's actual cost by element against the standard of its good quantity."
    )
)
class OrderCostSerializer(serializers.Serializer):
    order = serializers.CharField(source="order.number")
    product = serializers.CharField(source="order.item.code")
    status = serializers.CharField(source="order.status")
    version = serializers.CharField(allow_null=True)
    good_quantity = serializers.DecimalField(max_digits=18, decimal_places=4)
    scrap_quantity = serializers.DecimalField(max_digits=18, decimal_places=4)
    elements = ElementCostSerializer(many=True)
    actual_total = serializers.DecimalField(max_digits=20, decimal_places=4)
    standard_total = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    standard_unit_cost = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    unit_cost = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    unit_cost_note = serializers.CharField()
    frozen = serializers.BooleanField(
        help_text=gettext_lazy("Completed: late postings are not counted.")
    )
    late = serializers.SerializerMethodField()
    late_total = serializers.DecimalField(max_digits=20, decimal_places=4)
    problems = serializers.ListField(child=serializers.CharField())

    def get_late(self, summary) -> list[dict]:
        return [
            {"period": period.strftime("%Y-%m"), "amounts": {k: str(v) for k, v in amounts.items()}}
            for period, amounts in summary.late.items()
        ]


class CostPostRequestSerializer(serializers.Serializer):
    order = serializers.SlugRelatedField(
        slug_field="number",
        queryset=ProductionOrder.objects.all(),
        required=False,
        help_text=gettext_lazy("Order number (default: every order)."),
    )


class CostPostResultSerializer(serializers.Serializer):
    posted = serializers.IntegerField()
    orders = serializers.IntegerField()
    problems = serializers.ListField(child=serializers.CharField())


# --- variances --------------------------------------------------------------------------------


class MonthInputField(serializers.CharField):
    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return month_parse(text)
        except ValueError:
            raise serializers.ValidationError(
                gettext("%(value)r is not a month: give YYYY-MM, e.g. 2026-12.") % {"value": text}
            ) from None


class VarianceQuerySerializer(serializers.Serializer):
    """The variance report's filters (query parameters); blank ones do not filter."""

    order = serializers.CharField(required=False, help_text=gettext_lazy("Order number."))
    product = serializers.CharField(required=False, help_text=gettext_lazy("Item code."))
    work_center = serializers.CharField(required=False, help_text=gettext_lazy("Work center code."))
    period = MonthInputField(required=False, help_text=gettext_lazy("YYYY-MM."))
    kind = serializers.ChoiceField(choices=variance_engine.KINDS, required=False)
    flagged = serializers.BooleanField(required=False, allow_null=True, default=None)


class VarianceTotalsQuerySerializer(VarianceQuerySerializer):
    by = serializers.CharField(
        required=False,
        default="product",
        help_text=gettext_lazy("Comma-separated groups: product, work_center, period, order."),
    )

    def validate_by(self, value):
        names = tuple(n.strip() for n in value.split(",") if n.strip())
        allowed = ("product", "work_center", "period", "order")
        bad = [n for n in names if n not in allowed]
        if bad or not names:
            # Commas, not the reader's list separator (、): the list shows what to type.
            raise serializers.ValidationError(
                gettext("Group by %(allowed)s (comma-separated), not %(value)r.")
                % {"allowed": ", ".join(allowed), "value": value}
            )
        return names


class DrillDownQuerySerializer(serializers.Serializer):
    order = serializers.CharField(help_text=gettext_lazy("Order number."))
    kind = serializers.ChoiceField(choices=[k for k in variance_engine.KINDS if k != "late"])
    step = serializers.IntegerField(
        required=False, min_value=0, help_text=gettext_lazy("Operation number.")
    )
    component = serializers.CharField(
        required=False, help_text=gettext_lazy("Component item code.")
    )


class VarianceSerializer(serializers.Serializer):
    order = serializers.CharField()
    product = serializers.CharField()
    period = serializers.CharField()
    kind = serializers.CharField()
    element = serializers.CharField()
    step_no = serializers.IntegerField(allow_null=True)
    work_center = serializers.CharField(allow_null=True)
    component = serializers.CharField(allow_null=True)
    standard_quantity = serializers.DecimalField(max_digits=28, decimal_places=4)
    actual_quantity = serializers.DecimalField(max_digits=28, decimal_places=4)
    standard_rate = serializers.DecimalField(max_digits=20, decimal_places=4)
    actual_rate = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    standard_amount = serializers.DecimalField(max_digits=20, decimal_places=4)
    actual_amount = serializers.DecimalField(max_digits=20, decimal_places=4)
    amount = serializers.DecimalField(max_digits=20, decimal_places=4)
    pct = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    operators = serializers.ListField(child=serializers.CharField())
    equipment = serializers.ListField(child=serializers.CharField())
    lots = serializers.ListField(child=serializers.CharField())
    flagged = serializers.BooleanField()
    cause = serializers.SerializerMethodField(help_text=gettext_lazy("In the request's language."))
    cause_id = serializers.CharField(
        help_text=gettext_lazy("The cause's message id (core/texts.py).")
    )
    cause_params = serializers.DictField(help_text=gettext_lazy("The cause's parameters."))

    def get_cause(self, v) -> str:
        return variance_cause(v)


class VarianceTotalSerializer(serializers.Serializer):
    group = serializers.SerializerMethodField()
    by_kind = serializers.DictField(child=serializers.DecimalField(max_digits=20, decimal_places=4))
    total = serializers.DecimalField(max_digits=20, decimal_places=4)
    orders = serializers.IntegerField()

    def get_group(self, total) -> dict:
        return dict(zip(self.context["by"], total.group, strict=True))


class DrillRecordSerializer(serializers.Serializer):
    source = serializers.CharField()
    record_id = serializers.IntegerField(allow_null=True)
    event_id = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    operator = serializers.CharField()
    equipment = serializers.CharField()
    lot = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=28, decimal_places=4)
    amount = serializers.DecimalField(max_digits=20, decimal_places=4)
    share = serializers.DecimalField(max_digits=20, decimal_places=4)
    entry_id = serializers.IntegerField()
    basis = serializers.CharField(help_text=gettext_lazy("In the request's language."))
    basis_id = serializers.CharField()
    basis_params = serializers.JSONField()


class DrillDownSerializer(serializers.Serializer):
    variance = VarianceSerializer()
    records = DrillRecordSerializer(many=True)
    standard_allowed = serializers.DecimalField(max_digits=20, decimal_places=4)
    total = serializers.DecimalField(max_digits=20, decimal_places=4)


class TrainingNeedSerializer(serializers.ModelSerializer):
    order = serializers.SlugRelatedField(
        slug_field="number", queryset=ProductionOrder.objects.all()
    )
    operators = serializers.SlugRelatedField(slug_field="badge", many=True, read_only=True)
    raised_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    cause = serializers.ChoiceField(choices=[k for k in variance_engine.KINDS if k != "late"])
    text = serializers.CharField(
        source="text_shown", read_only=True, help_text=gettext_lazy("In the request's language.")
    )

    class Meta:
        model = TrainingNeed
        fields = [
            "id",
            "order",
            "step_no",
            "cause",
            "text",
            "text_id",
            "text_params",
            "operators",
            "raised_at",
            "raised_by",
        ]
        read_only_fields = ["text", "text_id", "text_params", "raised_at"]
        validators = []  # one per order, operation and cause: the service answers the existing
