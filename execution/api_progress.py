"""Progress API: the latest snapshots of an order, and the roll-up on demand.

GET  /api/v1/execution/progress/?order=NUMBER   latest snapshot of the order + operations
POST /api/v1/execution/progress/rollup/         queue a roll-up (supervisor, planner)
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import roles_may_write
from core.roles import Role
from planning.models import ProductionOrder

from .models import ProgressSnapshot


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


class ProgressView(APIView):
    """The latest roll-up of one order: the order's snapshot first, then its operations'."""

    @extend_schema(
        operation_id="execution_progress_list",
        parameters=[OpenApiParameter("order", str, required=True, description="Order number")],
        responses=ProgressSnapshotSerializer(many=True),
    )
    def get(self, request):
        number = (request.query_params.get("order") or "").strip()
        if not number:
            raise ValidationError({"order": "Name the order: ?order=NUMBER."}, code="required")
        order = ProductionOrder.objects.filter(number=number).first()
        if order is None:
            raise NotFound(f"No order {number}.")
        latest = (
            ProgressSnapshot.objects.filter(order=order)
            .order_by("-taken_at")
            .values_list("taken_at", flat=True)
            .first()
        )
        snapshots = (
            ProgressSnapshot.objects.filter(order=order, taken_at=latest)
            .select_related("order", "operation")
            .order_by("operation__sequence")
        )
        # Order-level row (no operation) first: SQL puts NULLs first or last by database.
        rows = sorted(
            snapshots,
            key=lambda s: (s.operation_id is not None, s.operation_id and s.operation.sequence),
        )
        return Response(ProgressSnapshotSerializer(rows, many=True).data)


class ProgressRollupView(APIView):
    """Run the hourly roll-up now (queued to a worker). Same hour, same rows: safe to repeat."""

    permission_classes = [roles_may_write(Role.SUPERVISOR, Role.PLANNER)]

    @extend_schema(operation_id="execution_progress_rollup", request=None, responses={202: dict})
    def post(self, request):
        from .tasks import progress_rollup

        result = progress_rollup.delay()
        body = {"task_id": result.id, "status": "queued"}
        if progress_rollup.app.conf.task_always_eager:  # ran in-process: report what it did
            body.update(status="done", result=result.get())
        return Response(body, status=status.HTTP_202_ACCEPTED)
