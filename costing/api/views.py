"""The costing API: cost versions, their rates and prices, the standard cost roll-up and
its results with the breakdown. Who may do what: core/policy.py (costing.*)."""

from django.db.models import ProtectedError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from planning.models import ProductionOrder

from ..filtersets import (
    CostRollupRunFilterSet,
    ItemCostFilterSet,
    LabourRateFilterSet,
    LotPriceFilterSet,
    MachineRateFilterSet,
    OrderCostEntryFilterSet,
    OrderWithCostFilterSet,
    OverheadRateFilterSet,
    PurchasePriceFilterSet,
)
from ..models import (
    CostRollupRun,
    CostVersion,
    LabourRate,
    LotPrice,
    MachineRate,
    OverheadRate,
    PurchasePrice,
)
from ..selectors.actual import (
    order_cost_entries,
    order_cost_summary,
    order_costs_summaries,
    orders_with_cost,
)
from ..selectors.rollup import cost_version_current, item_cost_lines, item_costs_list
from ..services.actual import order_cost_post_missing
from ..services.rollup import standard_cost_rollup_run
from ..services.versions import cost_version_make_current
from . import serializers


class CostVersionViewSet(viewsets.ModelViewSet):
    """Cost versions. `is_current` changes only through `make-current`."""

    policy_resource = "costing.costversion"
    queryset = CostVersion.objects.all()
    serializer_class = serializers.CostVersionSerializer
    filterset_fields = ["code", "is_current"]

    def perform_destroy(self, instance):
        if instance.is_current:
            raise ValidationError({"is_current": "The current cost version cannot be deleted."})
        try:
            instance.delete()
        except ProtectedError as exc:
            raise ValidationError({"id": "This version is still referenced."}) from exc

    @extend_schema(request=None, responses=serializers.CostVersionSerializer)
    @action(detail=True, methods=["post"], url_path="make-current")
    def make_current(self, request, pk=None):
        version = cost_version_make_current(version=self.get_object(), by=request.user)
        return Response(serializers.CostVersionSerializer(version).data)


class _RateViewSet(viewsets.ModelViewSet):
    # Rates and prices are kept under their version in the policy (MODEL_RESOURCES).
    policy_resource = "costing.costversion"


class LabourRateViewSet(_RateViewSet):
    queryset = LabourRate.objects.select_related("version", "work_center", "skill")
    serializer_class = serializers.LabourRateSerializer
    filterset_class = LabourRateFilterSet


class MachineRateViewSet(_RateViewSet):
    queryset = MachineRate.objects.select_related("version", "equipment")
    serializer_class = serializers.MachineRateSerializer
    filterset_class = MachineRateFilterSet


class OverheadRateViewSet(_RateViewSet):
    queryset = OverheadRate.objects.select_related("version", "work_center")
    serializer_class = serializers.OverheadRateSerializer
    filterset_class = OverheadRateFilterSet


class PurchasePriceViewSet(_RateViewSet):
    queryset = PurchasePrice.objects.select_related("version", "item")
    serializer_class = serializers.PurchasePriceSerializer
    filterset_class = PurchasePriceFilterSet


class CostRollupViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Standard cost roll-ups. POST runs one (of `version`, default the current version) and
    answers the run with every problem it found; the costs are under /item-costs/."""

    policy_resource = "costing.rollup"
    policy_actions = {"create": "run"}
    queryset = CostRollupRun.objects.select_related("version", "created_by")
    serializer_class = serializers.CostRollupRunSerializer
    filterset_class = CostRollupRunFilterSet

    @extend_schema(
        request=serializers.RollupRequestSerializer,
        responses={201: serializers.CostRollupRunSerializer},
    )
    def create(self, request, *args, **kwargs):
        given = serializers.RollupRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        version = given.validated_data.get("version") or cost_version_current()
        if version is None:
            raise ValidationError({"version": "No cost version is current; name one."})
        run = standard_cost_rollup_run(version=version, by=request.user)
        return Response(
            serializers.CostRollupRunSerializer(run).data, status=status.HTTP_201_CREATED
        )


class ItemCostViewSet(viewsets.ReadOnlyModelViewSet):
    """Stored standard unit costs by element; one cost answers with its breakdown lines
    (each component's material, each operation's labour, machine and overhead)."""

    policy_resource = "costing.rollup"
    filterset_class = ItemCostFilterSet

    def get_queryset(self):
        qs = item_costs_list()
        if self.action == "retrieve":
            qs = qs.prefetch_related(item_cost_lines())
        return qs

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.ItemCostDetailSerializer
        return serializers.ItemCostSerializer


# --- actual cost ------------------------------------------------------------------------------


class LotPriceViewSet(_RateViewSet):
    """What material lots actually cost: issues from a priced lot are costed at its price."""

    queryset = LotPrice.objects.select_related("lot__item")
    serializer_class = serializers.LotPriceSerializer
    filterset_class = LotPriceFilterSet


class OrderCostEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The actual cost ledger: one entry per material issue, labour booking (and each
    correction), machine span, scrap report and the overhead charged on them."""

    policy_resource = "costing.actual"
    serializer_class = serializers.OrderCostEntrySerializer
    filterset_class = OrderCostEntryFilterSet

    def get_queryset(self):
        return order_cost_entries()


class OrderCostViewSet(viewsets.GenericViewSet):
    """Actual cost per production order (by its number): by element against the standard of
    its good quantity, the unit cost, and what arrived after it was completed. Listed: the
    orders with cost posted, newest first (filters: product, status)."""

    policy_resource = "costing.actual"
    policy_actions = {"post_missing": "post"}
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    serializer_class = serializers.OrderCostSerializer
    filterset_class = OrderWithCostFilterSet

    def get_queryset(self):
        return orders_with_cost()

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        summaries = order_costs_summaries(page)
        return self.get_paginated_response(
            serializers.OrderCostSerializer(summaries, many=True).data
        )

    def retrieve(self, request, number=None):
        order = ProductionOrder.objects.select_related("item").filter(number=number).first()
        if order is None:
            raise NotFound(f"No production order {number}.")
        return Response(serializers.OrderCostSerializer(order_cost_summary(order)).data)

    @extend_schema(
        request=serializers.CostPostRequestSerializer,
        responses=serializers.CostPostResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="post-missing")
    def post_missing(self, request):
        """Post every record not costed yet (of `order`, or all): what the handlers would
        have posted; what is posted already stays."""
        given = serializers.CostPostRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        order = given.validated_data.get("order")
        result = order_cost_post_missing(orders=[order] if order else None)
        return Response(
            {"posted": result.posted, "orders": len(result.orders), "problems": result.problems}
        )
