"""The costing API: cost versions, their rates and prices, the standard cost roll-up and
its results with the breakdown. Who may do what: core/policy.py (costing.*)."""

from django.db.models import ProtectedError
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from core.lists import list_text
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
    TrainingNeed,
)
from ..selectors.actual import (
    order_cost_entries,
    order_cost_summary,
    order_costs_summaries,
    orders_with_cost,
)
from ..selectors.rollup import cost_version_current, item_cost_lines, item_costs_list
from ..selectors.variance import (
    NoSuchVariance,
    VarianceFilter,
    variance_drill_down,
    variance_totals,
    variances_list,
)
from ..services.actual import order_cost_post_missing
from ..services.rollup import standard_cost_rollup_run
from ..services.training import training_need_raise
from ..services.versions import cost_version_make_current
from . import serializers


@extend_schema(
    description=gettext_lazy("Cost versions. `is_current` changes only through `make-current`.")
)
class CostVersionViewSet(viewsets.ModelViewSet):
    policy_resource = "costing.costversion"
    queryset = CostVersion.objects.all()
    serializer_class = serializers.CostVersionSerializer
    filterset_fields = ["code", "is_current"]

    def perform_destroy(self, instance):
        if instance.is_current:
            raise ValidationError(
                {"is_current": gettext("The current cost version cannot be deleted.")}
            )
        try:
            instance.delete()
        except ProtectedError as exc:
            raise ValidationError({"id": gettext("This version is still referenced.")}) from exc

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


@extend_schema(
    description=gettext_lazy(
        "Standard cost roll-ups. POST runs one (of `version`, default the current "
        "version) and answers the run with every problem it found; the costs are under "
        "/item-costs/."
    )
)
class CostRollupViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
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
            raise ValidationError({"version": gettext("No cost version is current; name one.")})
        run = standard_cost_rollup_run(version=version, by=request.user)
        return Response(
            serializers.CostRollupRunSerializer(run).data, status=status.HTTP_201_CREATED
        )


@extend_schema(
    description=gettext_lazy(
        "Stored standard unit costs by element; one cost answers with its breakdown "
        "lines (each component's material, each operation's labour, machine and "
        "overhead)."
    )
)
class ItemCostViewSet(viewsets.ReadOnlyModelViewSet):
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


@extend_schema(
    description=gettext_lazy(
        "What material lots actually cost: issues from a priced lot are costed at its price."
    )
)
class LotPriceViewSet(_RateViewSet):
    queryset = LotPrice.objects.select_related("lot__item")
    serializer_class = serializers.LotPriceSerializer
    filterset_class = LotPriceFilterSet


@extend_schema(
    description=gettext_lazy(
        "The actual cost ledger: one entry per material issue, labour booking (and "
        "each correction), machine span, scrap report and the overhead charged on them."
    )
)
class OrderCostEntryViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "costing.actual"
    serializer_class = serializers.OrderCostEntrySerializer
    filterset_class = OrderCostEntryFilterSet

    def get_queryset(self):
        return order_cost_entries()


@extend_schema(
    description=gettext_lazy(
        "Actual cost per production order (by its number): by element against the "
        "standard of its good quantity, the unit cost, and what arrived after it was "
        "completed. Listed: the orders with cost posted, newest first (filters: "
        "product, status)."
    )
)
class OrderCostViewSet(viewsets.GenericViewSet):
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
            raise NotFound(gettext("No production order %(number)s.") % {"number": number})
        return Response(serializers.OrderCostSerializer(order_cost_summary(order)).data)

    @extend_schema(
        description=gettext_lazy(
            "Post every record not costed yet (of `order`, or all): what the handlers "
            "would have posted; what is posted already stays."
        ),
        request=serializers.CostPostRequestSerializer,
        responses=serializers.CostPostResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="post-missing")
    def post_missing(self, request):
        given = serializers.CostPostRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        order = given.validated_data.get("order")
        result = order_cost_post_missing(orders=[order] if order else None)
        return Response(
            {
                "posted": result.posted,
                "orders": len(result.orders),
                # In the request's language (core/texts.py).
                "problems": [str(problem) for problem in result.problems],
            }
        )


# --- variances --------------------------------------------------------------------------------


def _query(request, serializer_class, **context) -> dict:
    """The query parameters validated by `serializer_class`: an unknown one, or a bad value,
    is a 400 naming it."""
    given = serializer_class(data=request.query_params, context=context)
    known = set(given.fields)
    unknown = sorted(set(request.query_params) - known - {"page", "page_size", "format"})
    if unknown:
        accepted = list_text(sorted(known))
        raise ValidationError(
            {
                n: gettext("Unknown query parameter; this endpoint takes %(accepted)s.")
                % {"accepted": accepted}
                for n in unknown
            }
        )
    given.is_valid(raise_exception=True)
    return given.validated_data


def _variance_filter(data: dict) -> VarianceFilter:
    return VarianceFilter(
        order=data.get("order", ""),
        product=data.get("product", ""),
        work_center=data.get("work_center", ""),
        period=data.get("period"),
        kind=data.get("kind", ""),
        flagged=data.get("flagged"),
    )


@extend_schema(
    description=gettext_lazy(
        "Cost variances of the orders with actual cost: per order, operation and "
        "component, filtered by order, product, work center, period (YYYY-MM), kind "
        "and flagged; `totals` sums them per product, work center or period; "
        "`drill-down` lists the records behind one variance, whose shares add up to it."
    )
)
class VarianceViewSet(viewsets.GenericViewSet):
    policy_resource = "costing.variance"
    policy_actions = {"totals": "view", "drill_down": "view"}
    serializer_class = serializers.VarianceSerializer
    filter_backends: list = []  # the query is validated by the serializers below

    @extend_schema(
        parameters=[serializers.VarianceQuerySerializer],
        responses=serializers.VarianceSerializer(many=True),
    )
    def list(self, request):
        data = _query(request, serializers.VarianceQuerySerializer)
        page = self.paginate_queryset(variances_list(_variance_filter(data)))
        return self.get_paginated_response(serializers.VarianceSerializer(page, many=True).data)

    @extend_schema(
        parameters=[serializers.VarianceTotalsQuerySerializer],
        responses=serializers.VarianceTotalSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None)  # all totals, one list
    def totals(self, request):
        data = _query(request, serializers.VarianceTotalsQuerySerializer)
        by = data["by"] if isinstance(data["by"], tuple) else ("product",)
        totals = variance_totals(_variance_filter(data), by=by)
        return Response(
            serializers.VarianceTotalSerializer(totals, many=True, context={"by": by}).data
        )

    @extend_schema(
        parameters=[serializers.DrillDownQuerySerializer],
        responses=serializers.DrillDownSerializer,
    )
    @action(detail=False, methods=["get"], url_path="drill-down")
    def drill_down(self, request):
        data = _query(request, serializers.DrillDownQuerySerializer)
        if not ProductionOrder.objects.filter(number=data["order"]).exists():
            raise ValidationError(
                {"order": gettext("No production order %(number)s.") % {"number": data["order"]}}
            )
        try:
            drill = variance_drill_down(
                order=data["order"],
                kind=data["kind"],
                step_no=data.get("step"),
                component=data.get("component", ""),
            )
        except NoSuchVariance as exc:
            raise NotFound(str(exc)) from None
        return Response(serializers.DrillDownSerializer(drill).data)


@extend_schema(
    description=gettext_lazy(
        "Training needs raised from flagged variances (labour efficiency or scrap on "
        "an operation). POST {order, step_no, cause} raises one and tells the plant "
        "manager; raising it again answers the existing one (200)."
    )
)
class TrainingNeedViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    policy_resource = "costing.variance"
    policy_actions = {"create": "raise_training_need"}
    queryset = TrainingNeed.objects.select_related("order", "raised_by").prefetch_related(
        "operators"
    )
    serializer_class = serializers.TrainingNeedSerializer
    filterset_fields = ["cause", "step_no"]

    @extend_schema(
        responses={
            201: serializers.TrainingNeedSerializer,
            200: OpenApiResponse(
                serializers.TrainingNeedSerializer, gettext_lazy("Raised before: that one.")
            ),
        }
    )
    def create(self, request, *args, **kwargs):
        given = serializers.TrainingNeedSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        need, created = training_need_raise(
            order=given.validated_data["order"],
            step_no=given.validated_data["step_no"],
            cause=given.validated_data["cause"],
            by=request.user,
        )
        return Response(
            serializers.TrainingNeedSerializer(need).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
