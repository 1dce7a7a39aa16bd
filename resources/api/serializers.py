from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api import CleanModelSerializer, PolicyFieldsMixin
from core.lists import list_text
from core.signatures import (
    SignedListSerializer,
    SignedSerializerMixin,
    signature_password_field,
    signature_reason_field,
)

from ..models import (
    Area,
    Equipment,
    EquipmentChangeover,
    Item,
    MaterialLot,
    Operator,
    OperatorSkill,
    PurchaseOrder,
    PurchaseOrderLine,
    ShiftAssignment,
    ShiftPattern,
    Site,
    Skill,
    SkillLevel,
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


@extend_schema_serializer(
    description=gettext_lazy(
        "Minutes from one setup family to another, where they differ from the machine's."
    )
)
class EquipmentChangeoverSerializer(serializers.ModelSerializer):
    class Meta:
        model = EquipmentChangeover
        fields = ["from_family", "to_family", "minutes"]

    def validate(self, attrs):
        # A PATCH of the machine makes its nested fields optional: a pair is always whole.
        missing = [name for name in self.Meta.fields if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: self.fields[name].error_messages["required"] for name in missing}
            )
        if attrs["from_family"] == attrs["to_family"]:
            raise serializers.ValidationError(
                {"to_family": _("The family changed to must differ from the family changed from.")}
            )
        return attrs


@extend_schema_serializer(
    description=gettext_lazy(
        "A machine; `changeovers` is its whole list of changeover pairs (what is sent "
        "replaces it; left out: unchanged)."
    )
)
class EquipmentSerializer(CleanModelSerializer):
    work_center = serializers.SlugRelatedField(slug_field="code", queryset=WorkCenter.objects.all())
    backup_equipment = serializers.SlugRelatedField(
        slug_field="code", queryset=Equipment.objects.all(), allow_null=True, required=False
    )
    changeovers = EquipmentChangeoverSerializer(many=True, required=False)

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
            "changeover_minutes",
            "changeovers",
        ]

    def validate_changeovers(self, value):
        pairs = [(entry["from_family"], entry["to_family"]) for entry in value]
        twice = sorted({f"{a} → {b}" for a, b in pairs if pairs.count((a, b)) > 1})
        if twice:
            raise serializers.ValidationError(
                _("%(pairs)s listed twice.") % {"pairs": list_text(twice)}
            )
        return value


class ItemSerializer(PolicyFieldsMixin, CleanModelSerializer):
    policy_fields = {"costing.cost.view": ("standard_cost",)}

    class Meta:
        model = Item
        fields = [
            "id",
            "code",
            "external_ref",
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
    lot = serializers.CharField(source="lot.code", default=None, allow_null=True)

    class Meta:
        model = StockBalance
        fields = ["item", "location", "lot", "on_hand"]


@extend_schema_serializer(
    description=gettext_lazy(
        "A stock move; an adjustment or a reversal also takes `password` and `reason`, "
        "the supply-chain director's signature."
    )
)
class StockMoveSerializer(SignedSerializerMixin, CleanModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    password = signature_password_field(
        gettext_lazy("Adjustments and reversals: the signer's password, once more.")
    )
    reason = signature_reason_field(
        gettext_lazy("Adjustments and reversals: why; kept with the signature."), write_only=True
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


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    line_no = serializers.IntegerField(min_value=1)
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, min_value=0)
    open_quantity = serializers.DecimalField(max_digits=18, decimal_places=4, read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "line_no",
            "item",
            "quantity",
            "received_quantity",
            "open_quantity",
            "expected_date",
            "lot_code",
        ]
        read_only_fields = ["received_quantity"]


@extend_schema_serializer(
    description=gettext_lazy(
        "A purchase order with its lines. Written whole: the lines sent are the "
        "order's lines (see `purchase_order_save` for what may change once goods are "
        "received)."
    )
)
class PurchaseOrderSerializer(serializers.ModelSerializer):
    lines = PurchaseOrderLineSerializer(many=True)
    number = serializers.CharField(max_length=32, required=False)
    external_ref = serializers.CharField(
        max_length=100, required=False, allow_null=True, validators=[]
    )

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "external_ref",
            "supplier",
            "status",
            "confirmed_at",
            "confirmation_ref",
            "created_at",
            "lines",
        ]
        read_only_fields = ["status", "confirmed_at", "confirmation_ref", "created_at"]
        extra_kwargs = {"number": {"validators": []}}


class PurchaseOrderConfirmSerializer(serializers.Serializer):
    confirmation_ref = serializers.CharField(max_length=100, required=False, allow_blank=True)


class SkillSerializer(CleanModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "code", "name"]


class OperatorSkillSerializer(serializers.ModelSerializer):
    skill = serializers.SlugRelatedField(slug_field="code", queryset=Skill.objects.all())
    level = serializers.ChoiceField(choices=SkillLevel.choices)

    class Meta:
        model = OperatorSkill
        fields = ["skill", "level"]


@extend_schema_serializer(
    description=gettext_lazy(
        "An operator, named by badge, signed in as `user` (a username); `skills` is "
        "the whole list (what is sent replaces it)."
    )
)
class OperatorSerializer(CleanModelSerializer):
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all()
    )
    home_work_center = serializers.SlugRelatedField(
        slug_field="code", queryset=WorkCenter.objects.all(), allow_null=True, required=False
    )
    skills = OperatorSkillSerializer(many=True, required=False)

    class Meta:
        model = Operator
        fields = ["id", "badge", "name", "user", "home_work_center", "active", "skills"]

    def validate_skills(self, value):
        codes = [entry["skill"].code for entry in value]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:
            raise serializers.ValidationError(
                _("%(skills)s listed twice.") % {"skills": list_text(twice)}
            )
        return value


class ShiftPatternSerializer(CleanModelSerializer):
    work_center = serializers.SlugRelatedField(slug_field="code", queryset=WorkCenter.objects.all())

    class Meta:
        model = ShiftPattern
        fields = [
            "id",
            "work_center",
            "name",
            "weekdays",
            "start_time",
            "end_time",
            "break_minutes",
        ]


class ShiftAssignmentSerializer(CleanModelSerializer):
    operator = serializers.SlugRelatedField(slug_field="badge", queryset=Operator.objects.all())

    class Meta:
        model = ShiftAssignment
        fields = ["id", "operator", "shift", "valid_from", "valid_to"]
