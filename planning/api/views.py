from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ExternalRefUpsertMixin
from core.policy import require
from resources.models import WorkCenter

from ..filtersets import (
    MpsEntryFilterSet,
    ProductionOrderFilterSet,
    PurchaseRequisitionFilterSet,
    SalesOrderFilterSet,
)
from ..models import (
    Bom,
    Forecast,
    ImportJob,
    MpsEntry,
    MrpRun,
    PlannedOrder,
    ProductionOrder,
    PurchaseRequisition,
    Routing,
    ScheduleRun,
)
from ..selectors.capacity import capacity_load, capacity_plan_check
from ..selectors.orders import production_order_detail, production_orders_list
from ..selectors.risk import with_risk_inputs
from ..selectors.sales import sales_orders_with_predictions
from ..services import mrp as mrp_services
from ..services import orders as order_services
from ..services import purchasing as purchasing_services
from ..services import schedule as schedule_services
from . import serializers


@extend_schema(
    description=gettext_lazy(
        "BOM headers with their lines (lines are edited in the admin or by import)."
    )
)
class BomViewSet(viewsets.ModelViewSet):
    policy_resource = "planning.bom"
    queryset = Bom.objects.select_related("item").prefetch_related("lines__component")
    serializer_class = serializers.BomSerializer
    filterset_fields = ["item__code", "version"]


@extend_schema(
    description=gettext_lazy(
        "Routing headers with their steps (steps are edited in the admin or by import)."
    )
)
class RoutingViewSet(viewsets.ModelViewSet):
    policy_resource = "planning.routing"
    queryset = Routing.objects.select_related("item").prefetch_related(
        "steps__work_center", "steps__eligible_equipment", "steps__required_skill"
    )
    serializer_class = serializers.RoutingSerializer
    filterset_fields = ["item__code", "version"]


@extend_schema(
    description=gettext_lazy(
        "Sales orders; each answers with what the plant expects for it: the delay of "
        "open exceptions (`expected_delay_minutes`, `delay_note`) and the shop floor's "
        "predicted delay of its open production orders (`predicted_delay_hours`, "
        "`predicted_end`: the latest). An ERP creates and updates them by its own "
        "`external_ref` (a resent order changes nothing)."
    )
)
class SalesOrderViewSet(ExternalRefUpsertMixin, viewsets.ModelViewSet):
    policy_resource = "planning.salesorder"
    queryset = sales_orders_with_predictions()
    serializer_class = serializers.SalesOrderSerializer
    filterset_class = SalesOrderFilterSet


class ForecastViewSet(viewsets.ModelViewSet):
    policy_resource = "planning.forecast"
    queryset = Forecast.objects.select_related("item")
    serializer_class = serializers.ForecastSerializer
    filterset_fields = ["item__code"]


@extend_schema(
    description=gettext_lazy("The master production schedule, editable per item and period.")
)
class MpsEntryViewSet(viewsets.ModelViewSet):
    policy_resource = "planning.mpsentry"
    queryset = MpsEntry.objects.select_related("item")
    serializer_class = serializers.MpsEntrySerializer
    filterset_class = MpsEntryFilterSet


@extend_schema(
    description=gettext_lazy(
        "Production orders. Created with operations from the routing; status changes "
        "only through the actions (plan, release, start, complete, close, cancel)."
    )
)
class ProductionOrderViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    policy_resource = "planning.productionorder"
    serializer_class = serializers.ProductionOrderSerializer
    filterset_class = ProductionOrderFilterSet

    def get_queryset(self):
        # With what the delivery risk needs (planning/selectors/risk.py), in the same query.
        if self.action == "list":
            return with_risk_inputs(production_orders_list()).prefetch_related(
                "operations__work_center",
                "operations__equipment",
                "operations__eligible_equipment",
                "operations__required_skill",
            )
        return with_risk_inputs(production_order_detail())

    @extend_schema(
        description=gettext_lazy(
            "Create an order; one naming an `external_ref` already known is that order's "
            "update instead (quantity, due date, priority: 200), so an ERP resending it "
            "changes nothing, and a change after release is a 409."
        ),
        request=serializers.ProductionOrderCreateSerializer,
        responses=serializers.ProductionOrderSerializer,
    )
    def create(self, request, *args, **kwargs):
        data = serializers.ProductionOrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ref = (values.get("external_ref") or "").strip()
        existing = ProductionOrder.objects.filter(external_ref=ref).first() if ref else None
        if existing is not None:
            require(request.user, self.policy_resource, "update")
            if values["item"].pk != existing.item_id:
                raise ValidationError(
                    {
                        "item": gettext("Order %(number)s (%(ref)s) makes %(item)s.")
                        % {"number": existing.number, "ref": ref, "item": existing.item.code}
                    }
                )
            order, _changed = order_services.production_order_update(
                order=existing,
                quantity=values["quantity"],
                due_date=values["due_date"],
                priority=values["priority"],
                by=request.user,
            )
            order = production_order_detail().get(pk=order.pk)
            return Response(self.get_serializer(order).data, status=status.HTTP_200_OK)
        order = order_services.production_order_create(**values, by=request.user)
        order = production_order_detail().get(pk=order.pk)
        return Response(self.get_serializer(order).data, status=status.HTTP_201_CREATED)

    def _transition(self, request, service):
        order = service(order=self.get_object(), by=request.user)
        return Response(self.get_serializer(production_order_detail().get(pk=order.pk)).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        return self._transition(request, order_services.production_order_plan)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return self._transition(request, order_services.production_order_release)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._transition(request, order_services.production_order_start)

    @extend_schema(
        description=gettext_lazy(
            "Complete by hand: an order short of its quantity or with operations not done "
            "needs a `reason` (kept on the order; its open operations and tasks are "
            "cancelled); 409 while an operation runs."
        ),
        request=serializers.OrderCompleteSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = serializers.OrderCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = order_services.production_order_complete_manual(
            order=self.get_object(), by=request.user, reason=data.validated_data["reason"]
        )
        return Response(self.get_serializer(production_order_detail().get(pk=order.pk)).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(request, order_services.production_order_close)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, order_services.production_order_cancel)


def _cell(c):
    return {
        "work_center": c.work_center,
        "day": c.day,
        "available_minutes": c.available,
        "load_minutes": c.load,
        "overload_minutes": c.overload,
        "load_percent": c.percent,
    }


@extend_schema(description=gettext_lazy("Load vs available minutes per work center and day."))
class CapacityLoadView(APIView):
    policy_resource = "planning.capacity"

    @extend_schema(
        parameters=[serializers.LoadQuerySerializer], responses=serializers.CapacityLoadSerializer
    )
    def get(self, request):
        query = serializers.LoadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start = query.validated_data.get("start") or timezone.localdate()
        last = start + timedelta(days=query.validated_data["days"] - 1)
        work_centers = WorkCenter.objects.select_related("area__site").order_by("code")
        if code := query.validated_data.get("work_center"):
            work_centers = work_centers.filter(code=code)
        cells = capacity_load(first_day=start, last_day=last, work_centers=list(work_centers))
        body = {"start": start, "last": last, "cells": [_cell(c) for c in cells]}
        return Response(serializers.CapacityLoadSerializer(body).data)


@extend_schema(
    description=gettext_lazy(
        "Check a plan: cap its daily rate at the bottleneck, list the overloads it causes."
    )
)
class CapacityCheckView(APIView):
    policy_resource = "planning.capacity"
    policy_actions = {"POST": "check"}

    @extend_schema(
        request=serializers.PlanCheckInputSerializer, responses=serializers.PlanCheckSerializer
    )
    def post(self, request):
        data = serializers.PlanCheckInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = capacity_plan_check(**data.validated_data)
        plan = check.plan
        return Response(
            serializers.PlanCheckSerializer(
                {
                    "item": check.item,
                    "quantity": plan.quantity,
                    "requested_per_day": plan.requested_per_day,
                    "capped_per_day": plan.capped_per_day,
                    "capped": plan.capped,
                    "requested_finish": plan.requested_finish,
                    "capped_finish": plan.capped_finish,
                    "delay_days": plan.delay_days,
                    "bottleneck": {
                        "step": check.bottleneck.step_no,
                        "work_center": check.bottleneck.work_center,
                        "equipment": check.bottleneck.equipment,
                    },
                    "days": [
                        {"day": d.day, "capacity": d.capacity, "planned": d.planned}
                        for d in plan.days
                    ],
                    "overloads": [_cell(c) for c in check.overloads],
                }
            ).data
        )


@extend_schema(
    description=gettext_lazy(
        "MRP runs: POST queues one (the worker runs it; poll `progress`), GET reads results."
    )
)
class MrpRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    policy_resource = "planning.mrp"
    policy_actions = {"create": "run"}
    queryset = MrpRun.objects.all()
    serializer_class = serializers.MrpRunSerializer

    def perform_create(self, serializer):
        serializer.instance = mrp_services.mrp_run_start(
            by=self.request.user, planning_date=serializer.validated_data.get("planning_date")
        )

    @extend_schema(responses=serializers.ActionMessageSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # the run's messages, whole
    def messages(self, request, pk=None):
        run = self.get_object()
        rows = run.messages.select_related("item")
        return Response(serializers.ActionMessageSerializer(rows, many=True).data)


@extend_schema(
    description=gettext_lazy(
        "Planned orders of MRP runs with their pegging; `firm` turns one into a "
        "production order or a purchase requisition."
    )
)
class PlannedOrderViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "planning.mrp"
    queryset = PlannedOrder.objects.select_related(
        "item", "production_order", "requisition"
    ).prefetch_related("pegs")
    serializer_class = serializers.PlannedOrderSerializer
    filterset_fields = ["run", "kind", "status", "item__code"]

    @extend_schema(request=None, responses=serializers.FirmResultSerializer)
    @action(detail=True, methods=["post"])
    def firm(self, request, pk=None):
        created = mrp_services.planned_order_firm(planned_order=self.get_object(), by=request.user)
        kind = "production_order" if hasattr(created, "operations") else "purchase_requisition"
        return Response({"kind": kind, "number": created.number, "id": created.pk})


@extend_schema(
    description=gettext_lazy(
        "Background imports of master-data files (the Import page queues them) and "
        "their reports; each problem's message is in the request's language."
    )
)
class ImportJobViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "planning.importjob"
    queryset = ImportJob.objects.all()
    serializer_class = serializers.ImportJobSerializer
    filterset_fields = ["status"]


@extend_schema(
    description=gettext_lazy(
        "Finite-capacity schedule runs: POST queues a rescheduling of all open orders "
        "(the worker solves it; poll `status`/`progress`); `assignments` lists where "
        "each operation went."
    )
)
class ScheduleRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    policy_resource = "planning.schedule"
    policy_actions = {"create": "run"}
    queryset = ScheduleRun.objects.all()
    serializer_class = serializers.ScheduleRunSerializer

    def perform_create(self, serializer):
        serializer.instance = schedule_services.schedule_run_start(
            by=self.request.user,
            time_limit_seconds=serializer.validated_data.get("time_limit_seconds", 10),
        )

    @extend_schema(responses=serializers.ScheduleAssignmentSerializer(many=True))
    @action(detail=True, methods=["get"])
    def assignments(self, request, pk=None):
        run = self.get_object()
        rows = run.assignments.select_related("operation__order", "equipment").order_by(
            "equipment__code", "start"
        )
        page = self.paginate_queryset(rows)
        data = serializers.ScheduleAssignmentSerializer(
            page if page is not None else rows, many=True
        ).data
        return self.get_paginated_response(data) if page is not None else Response(data)


@extend_schema(
    description=gettext_lazy(
        "Requests to buy, from MRP and from shortages on the floor. The ERP that buys "
        "reads them and answers: `confirm` (ordered, naming its purchase order) or "
        "`close` (not ordered, with the reason). A repeated answer changes nothing; "
        "409 when the state does not allow it."
    )
)
class PurchaseRequisitionViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "planning.purchaserequisition"
    queryset = PurchaseRequisition.objects.select_related("item")
    serializer_class = serializers.PurchaseRequisitionSerializer
    filterset_class = PurchaseRequisitionFilterSet

    @extend_schema(request=serializers.RequisitionConfirmSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        data = serializers.RequisitionConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        requisition = purchasing_services.requisition_confirm(
            requisition=self.get_object(), by=request.user, **data.validated_data
        )
        return Response(self.get_serializer(requisition).data)

    @extend_schema(request=serializers.RequisitionCloseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = serializers.RequisitionCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        requisition = purchasing_services.requisition_close(
            requisition=self.get_object(), by=request.user, **data.validated_data
        )
        return Response(self.get_serializer(requisition).data)
