"""Quality reports API: the same figures as the report pages and CSV files, as JSON.

GET /api/v1/quality/reports/pareto/?by=defect|operation&from=&to=&work_center=&item=
GET /api/v1/quality/reports/fpy/?from=&to=&work_center=&item=        operations and lines
GET /api/v1/quality/reports/trend/?from=&to=&work_center=&item=&bucket=day|week
GET /api/v1/quality/reports/orders/{number}/                         quality trace of an order

Any signed-in user may read them. A bad parameter answers 400 naming it.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from planning.models import ProductionOrder

from . import reports as r

PCT = {"max_digits": 6, "decimal_places": 1, "allow_null": True}
QTY = {"max_digits": 18, "decimal_places": 4}

FILTER_PARAMETERS = [
    OpenApiParameter("from", str, description="First day, YYYY-MM-DD (default: 30 days ago)"),
    OpenApiParameter("to", str, description="Last day, YYYY-MM-DD (default: today)"),
    OpenApiParameter("work_center", str, description="Work center code"),
    OpenApiParameter("item", str, description="Item code"),
]


def _filter(request) -> r.ReportFilter:
    try:
        return r.report_filter_parse(request.query_params)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


class ParetoBarSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    share_pct = serializers.DecimalField(**PCT)
    cumulative_pct = serializers.DecimalField(**PCT)


class OperationSerializer(serializers.Serializer):
    item = serializers.CharField()
    sequence = serializers.IntegerField()
    name = serializers.CharField()
    work_center = serializers.CharField()
    area = serializers.CharField()


class OperationYieldSerializer(serializers.Serializer):
    operation = OperationSerializer()
    source = serializers.ChoiceField(choices=["inspection", "events"])
    units = serializers.DecimalField(**QTY)
    first_pass = serializers.DecimalField(**QTY)
    failed = serializers.DecimalField(**QTY)
    fpy_pct = serializers.DecimalField(**PCT)


class LineYieldSerializer(serializers.Serializer):
    area = serializers.CharField()
    item = serializers.CharField()
    operations = OperationYieldSerializer(many=True)
    units = serializers.DecimalField(**QTY)
    first_pass = serializers.DecimalField(**QTY)
    rty_pct = serializers.DecimalField(**PCT)
    simple_pct = serializers.DecimalField(**PCT)


class YieldReportSerializer(serializers.Serializer):
    operations = OperationYieldSerializer(many=True)
    lines = LineYieldSerializer(many=True)


class TrendPointSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    start = serializers.DateField()
    inspected = serializers.IntegerField()
    failed = serializers.IntegerField()
    defect_rate_pct = serializers.DecimalField(**PCT)
    units = serializers.IntegerField()
    first_pass = serializers.IntegerField()
    fpy_pct = serializers.DecimalField(**PCT)


class MeasurementSerializer(serializers.Serializer):
    characteristic = serializers.CharField()
    value = serializers.CharField()
    unit = serializers.CharField()
    passed = serializers.BooleanField()


class TraceLineSerializer(serializers.Serializer):
    record_id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    operation = serializers.CharField()
    work_center = serializers.CharField()
    plan = serializers.CharField()
    attempt_no = serializers.IntegerField(allow_null=True)
    result = serializers.CharField()
    superseded = serializers.BooleanField()
    corrects_id = serializers.IntegerField(allow_null=True)
    corrected_by_id = serializers.IntegerField(allow_null=True)
    defect_code = serializers.CharField()
    defect_name = serializers.CharField()
    reason = serializers.CharField()
    measurements = MeasurementSerializer(many=True)
    inspector = serializers.CharField()
    gauge = serializers.CharField()
    inspected_at = serializers.DateTimeField()
    disposition = serializers.CharField()
    disposition_note = serializers.CharField()
    decided_by = serializers.CharField()
    approved_by = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)


class SubjectTraceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    trace_code = serializers.CharField()
    inspected = serializers.BooleanField()
    first_pass = serializers.BooleanField(allow_null=True)
    failed = serializers.BooleanField()
    scrapped = serializers.BooleanField()
    inspections = TraceLineSerializer(many=True, source="lines")


class OrderSummarySerializer(serializers.Serializer):
    subjects = serializers.IntegerField()
    inspected = serializers.IntegerField()
    passed_first_time = serializers.IntegerField()
    failed = serializers.IntegerField()
    scrapped = serializers.IntegerField()
    first_pass_pct = serializers.DecimalField(**PCT)


class OrderQualitySerializer(serializers.Serializer):
    order = serializers.CharField(source="order.number")
    item = serializers.CharField(source="order.item.code")
    quantity = serializers.DecimalField(source="order.quantity", **QTY)
    summary = OrderSummarySerializer()
    subjects = SubjectTraceSerializer(many=True)


class ParetoView(APIView):
    """Failed inspections by defect code or by operation: count, share, cumulative %."""

    @extend_schema(
        parameters=[
            OpenApiParameter("by", str, enum=["defect", "operation"], description="default defect"),
            *FILTER_PARAMETERS,
        ],
        responses=ParetoBarSerializer(many=True),
    )
    def get(self, request):
        by = request.query_params.get("by") or "defect"
        if by not in ("defect", "operation"):
            raise ValidationError({"by": "Use 'defect' or 'operation'."})
        f = _filter(request)
        bars = r.defect_pareto(f) if by == "defect" else r.operation_pareto(f)
        return Response(ParetoBarSerializer(bars, many=True).data)


class YieldView(APIView):
    """First-pass yield per operation and per line (RTY and simple ratio)."""

    @extend_schema(parameters=FILTER_PARAMETERS, responses=YieldReportSerializer)
    def get(self, request):
        return Response(YieldReportSerializer(r.yield_report(_filter(request))).data)


class TrendView(APIView):
    """Defect rate and first-pass yield per day or week."""

    @extend_schema(
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("bucket", str, enum=["day", "week"], description="default by span"),
        ],
        responses=TrendPointSerializer(many=True),
    )
    def get(self, request):
        return Response(TrendPointSerializer(r.trend_report(_filter(request)), many=True).data)


class OrderQualityView(APIView):
    """Every unit and lot of an order with its inspections, dispositions and a summary."""

    @extend_schema(responses=OrderQualitySerializer)
    def get(self, request, number: str):
        order = ProductionOrder.objects.select_related("item").filter(number=number).first()
        if order is None:
            raise NotFound(f"No order {number}.")
        return Response(OrderQualitySerializer(r.order_quality_report(order)).data)


urlpatterns = [
    path("reports/pareto/", ParetoView.as_view(), name="quality-report-pareto"),
    path("reports/fpy/", YieldView.as_view(), name="quality-report-fpy"),
    path("reports/trend/", TrendView.as_view(), name="quality-report-trend"),
    path(
        "reports/orders/<str:number>/",
        OrderQualityView.as_view(),
        name="quality-report-order",
    ),
]
