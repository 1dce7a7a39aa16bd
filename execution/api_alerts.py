"""API for exceptions: raise (idempotent by external_id), acknowledge, resolve, verify,
move to backup."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from planning.models import OrderOperation, ProductionOrder
from resources.models import Equipment, MaterialLot

from .models import AlertStep, AlertType, Severity, WorkAlert
from .services import alerts as alert_services


class AlertStepSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", default=None)

    class Meta:
        model = AlertStep
        fields = ["kind", "at", "by", "role", "text"]


class WorkAlertSerializer(serializers.ModelSerializer):
    equipment = serializers.CharField(source="equipment.code", default=None)
    order = serializers.CharField(source="order.number", default=None)
    operation = serializers.IntegerField(source="operation.sequence", default=None)
    handler = serializers.CharField(source="handler.username", default=None)
    requisition = serializers.CharField(source="requisition.number", default=None)
    steps = AlertStepSerializer(many=True, read_only=True)

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
    sequence = serializers.IntegerField(required=False, help_text="Operation of the order")
    lot = serializers.CharField(required=False)
    expected_downtime_minutes = serializers.IntegerField(min_value=0, required=False)

    def validate(self, attrs):
        sequence = attrs.pop("sequence", None)
        if sequence is not None:
            order = attrs.get("order")
            if order is None:
                raise serializers.ValidationError({"sequence": "Name the order too."})
            operation = OrderOperation.objects.filter(order=order, sequence=sequence).first()
            if operation is None:
                raise serializers.ValidationError(
                    {"sequence": f"{order.number} has no operation {sequence}."}
                )
            attrs["operation"] = operation
        code = attrs.pop("lot", None)
        if code:
            lot = MaterialLot.objects.filter(code=code).first()
            if lot is None:
                raise serializers.ValidationError({"lot": f"No lot {code}."})
            attrs["lot"] = lot
        return attrs


class ResolveSerializer(serializers.Serializer):
    cause = serializers.CharField(max_length=2000)
    action = serializers.CharField(max_length=2000)


class BackupSerializer(serializers.Serializer):
    backup = serializers.SlugRelatedField(slug_field="code", queryset=Equipment.objects.all())


class WorkAlertViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Exceptions. Anyone signed in may raise one (a repeated external_id answers 200 with the
    first); acknowledging and resolving are for the role the exception is routed to (403
    otherwise)."""

    serializer_class = WorkAlertSerializer
    filterset_fields = ["status", "severity", "alert_type", "order__number", "equipment__code"]

    def get_queryset(self):
        return WorkAlert.objects.select_related(
            "equipment", "order", "operation", "handler", "requisition"
        ).prefetch_related("steps__by")

    @extend_schema(
        request=RaiseSerializer, responses={201: WorkAlertSerializer, 200: WorkAlertSerializer}
    )
    def create(self, request, *args, **kwargs):
        data = RaiseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        external_id = data.validated_data.get("external_id")
        seen = external_id and WorkAlert.objects.filter(external_id=external_id).exists()
        alert = alert_services.alert_raise(by=request.user, **data.validated_data)
        body = self.get_serializer(self.get_queryset().get(pk=alert.pk)).data
        return Response(body, status=status.HTTP_200_OK if seen else status.HTTP_201_CREATED)

    def _answer(self, alert):
        return Response(self.get_serializer(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._answer(
            alert_services.alert_acknowledge(alert=self.get_object(), by=request.user)
        )

    @extend_schema(request=ResolveSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = alert_services.alert_resolve(
            alert=self.get_object(), by=request.user, **data.validated_data
        )
        return self._answer(alert)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return self._answer(alert_services.alert_verify(alert=self.get_object(), by=request.user))

    @extend_schema(request=BackupSerializer)
    @action(detail=True, methods=["post"], url_path="move-to-backup")
    def move_to_backup(self, request, pk=None):
        data = BackupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = alert_services.alert_move_to_backup(
            alert=self.get_object(), backup=data.validated_data["backup"], by=request.user
        )
        return self._answer(alert)
