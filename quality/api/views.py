"""Quality API, mounted under /api/v1/quality/ (quality/api/urls.py).

Plans (read, new version), defect codes and rules (master data), inspection records (entry,
correction, disposition) and holds (release).

Trace:

GET  trace/{code}/[?item=ITEM]          the history of a unit or lot: operations, inspections,
                                        materials down (multi-level); for a lot also where-used
GET  where-used/{lot_code}/[?item=ITEM] the orders that consumed a lot, what they made, up to
                                        the end items
GET  trace-codes/?order=NUMBER          an order's trace codes
POST trace-codes/ {order, count, request_id}
                                        issue the order's next `count` codes (201); the same
                                        request_id again answers 200 with the same codes

An unknown code answers 404 with a message; a code that names units or lots of several items
answers 400 asking for `item`.

Reports — the same figures as the report pages and CSV files, as JSON:

GET reports/pareto/?by=defect|operation&from=&to=&work_center=&item=
GET reports/fpy/?from=&to=&work_center=&item=        operations and lines
GET reports/trend/?from=&to=&work_center=&item=&bucket=day|week
GET reports/orders/{number}/                         quality trace of an order

The quality roles, planners and the plant manager read the reports (core/policy.py). A bad parameter answers 400 naming it.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_body, error_entry
from core.policy import require
from core.signatures import signature_guard
from planning.models import ProductionOrder

from .. import filtersets
from ..models import (
    DefectCode,
    DefectRateRule,
    InspectionPlan,
    InspectionRecord,
    Measurement,
    QualityHold,
    TraceCode,
)
from ..selectors.genealogy import TraceAmbiguous, TraceNotFound, genealogy, lot_find, where_used
from ..selectors.inspections import operation_find
from ..selectors.reports import (
    ReportFilter,
    defect_pareto,
    operation_pareto,
    order_quality_report,
    report_filter_parse,
    trend_report,
    yield_report,
)
from ..services import holds as hold_services
from ..services.plans import inspection_plan_new_version
from ..services.records import (
    disposition_record,
    inspection_correct,
    inspection_record,
)
from ..services.trace import trace_codes_issue_for_order, trace_lookup
from . import serializers
from .serializers import plain


@extend_schema(
    description=gettext_lazy(
        "Inspection plans, every version. A new version is made with `new-version`; "
        "plans themselves are master data kept in the admin."
    )
)
class InspectionPlanViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "quality.inspectionplan"
    serializer_class = serializers.InspectionPlanSerializer
    filterset_class = filtersets.InspectionPlanFilterSet
    queryset = InspectionPlan.objects.select_related(
        "routing_step__routing__item", "routing_step__work_center"
    ).prefetch_related("characteristics")

    @extend_schema(
        request=serializers.PlanVersionInputSerializer,
        responses={201: serializers.InspectionPlanSerializer},
    )
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        data = serializers.PlanVersionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = inspection_plan_new_version(
            plan=self.get_object(), by=request.user, **data.validated_data
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=plan.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class DefectCodeViewSet(viewsets.ModelViewSet):
    policy_resource = "quality.defectcode"
    queryset = DefectCode.objects.all()
    serializer_class = serializers.DefectCodeSerializer
    filterset_class = filtersets.DefectCodeFilterSet


class DefectRateRuleViewSet(viewsets.ModelViewSet):
    queryset = DefectRateRule.objects.select_related("routing_step", "work_center")
    policy_resource = "quality.defectraterule"
    serializer_class = serializers.DefectRateRuleSerializer
    filterset_class = filtersets.DefectRateRuleFilterSet


def _records():
    return InspectionRecord.objects.select_related(
        "plan",
        "order",
        "operation",
        "work_center",
        "unit",
        "lot",
        "defect_code",
        "inspector",
        "corrected_by",
        "disposition__decided_by",
        "disposition__approved_by",
    ).prefetch_related(
        Prefetch("measurements", queryset=Measurement.objects.select_related("characteristic"))
    )


@extend_schema(
    description=gettext_lazy(
        "Inspection records (append-only). POST an inspection: 201 with the record and "
        "its verdict, 200 with the first record when the external_id was seen before. "
        "Bad input is a 400 naming the field (`values` names the characteristic); a "
        "correction is a new record (`correct`), and a failed record takes a "
        "disposition (`disposition`)."
    )
)
class InspectionRecordViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    policy_resource = "quality.inspectionrecord"
    serializer_class = serializers.InspectionRecordSerializer
    filterset_class = filtersets.InspectionRecordFilterSet

    def get_queryset(self):
        return _records()

    def _answer(self, record, created: bool) -> Response:
        body = self.get_serializer(_records().get(pk=record.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=serializers.InspectionInputSerializer,
        responses=serializers.InspectionRecordSerializer,
    )
    def create(self, request, *args, **kwargs):
        data = serializers.InspectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        existing = InspectionRecord.objects.filter(external_id=v["external_id"]).first()
        if existing is not None:  # a retry: answer before looking at anything else
            return self._answer(existing, False)
        operation = operation_find(order=v["order"], sequence=v["sequence"])
        # An operator records inspections on their own tasks (quality/selectors/ownership.py).
        require(request.user, "quality.inspectionrecord", "add", getattr(operation, "task", None))
        record, created = inspection_record(
            external_id=v["external_id"],
            operation=operation,
            values=v["values"],
            trace_code=v.get("trace_code", ""),
            serial=v.get("unit", ""),
            lot_code=v.get("lot", ""),
            defect_code=v.get("defect_code"),
            reason=v.get("reason", ""),
            gauge=v.get("gauge", ""),
            inspected_at=v.get("inspected_at"),
            by=request.user,
        )
        return self._answer(record, created)

    @extend_schema(
        request=serializers.CorrectionInputSerializer,
        responses=serializers.InspectionRecordSerializer,
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        data = serializers.CorrectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        with signature_guard(request):
            record, created = inspection_correct(
                record=self.get_object(),
                external_id=v["external_id"],
                values=v["values"],
                defect_code=v.get("defect_code"),
                reason=v.get("reason", ""),
                gauge=v.get("gauge"),
                inspected_at=v.get("inspected_at"),
                by=request.user,
                password=v.get("password", ""),
            )
        return self._answer(record, created)

    @extend_schema(
        request=serializers.DispositionInputSerializer, responses=serializers.DispositionSerializer
    )
    @action(detail=True, methods=["post"])
    def disposition(self, request, pk=None):
        data = serializers.DispositionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with signature_guard(request):
            disposition, created = disposition_record(
                record=self.get_object(), by=request.user, **data.validated_data
            )
        # A retried request (the same decision again) answers 200 with the first.
        return Response(
            serializers.DispositionSerializer(disposition).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema(
    description=gettext_lazy(
        "Quality holds; `release` is for quality supervisors, with a reason (403 otherwise)."
    )
)
class QualityHoldViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "quality.qualityhold"
    serializer_class = serializers.QualityHoldSerializer
    filterset_class = filtersets.QualityHoldFilterSet
    queryset = QualityHold.objects.select_related(
        "routing_step__routing__item", "work_center", "equipment", "alert", "released_by"
    )

    @extend_schema(
        request=serializers.HoldReleaseInputSerializer, responses=serializers.QualityHoldSerializer
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        # No input serializer here: the role is checked before the reason, so a production
        # supervisor learns that he may not release, not that his reason was missing.
        body = request.data if hasattr(request.data, "get") else {}
        with signature_guard(request):
            hold = hold_services.hold_release(
                hold=self.get_object(),
                reason=str(body.get("reason") or ""),
                password=str(body.get("password") or ""),
                by=request.user,
            )
        return Response(self.get_serializer(self.get_queryset().get(pk=hold.pk)).data)


# --- trace (mounted under /api/v1/quality/) --------------------------------------------

ITEM_PARAM = OpenApiParameter(
    "item",
    str,
    required=False,
    description=gettext_lazy("Item code, where the code repeats across items"),
)


def _ambiguous(exc: TraceAmbiguous) -> Response:
    # `candidates` lists what `item` may name, for a program to choose from.
    return Response(
        error_body(str(exc), [error_entry(str(exc), field="item")], candidates=exc.candidates),
        status=status.HTTP_400_BAD_REQUEST,
    )


@extend_schema(description=gettext_lazy("The full history of the unit or lot a trace code names."))
class TraceView(APIView):
    policy_resource = "quality.trace"

    @extend_schema(parameters=[ITEM_PARAM], responses=OpenApiTypes.OBJECT)
    def get(self, request, code: str):
        item = request.query_params.get("item") or None
        try:
            target = trace_lookup(code=code, item=item, by=request.user)
        except TraceNotFound as exc:
            raise NotFound(str(exc)) from exc
        except TraceAmbiguous as exc:
            return _ambiguous(exc)
        body = {
            "code": target.trace_code.code if target.trace_code else None,
            "kind": target.kind,
            "item": target.owner.item.code,
            "identity": target.identity,
            "order": target.trace_code.order.number
            if target.trace_code and target.trace_code.order_id
            else None,
            "issued_at": plain(target.trace_code.issued_at) if target.trace_code else None,
            "genealogy": plain(genealogy(unit=target.unit, lot=target.lot)),
            "where_used": None,
        }
        if target.lot is not None:
            used = where_used(lot=target.lot)
            body["where_used"] = {**plain(used), "end_units": len(used.end_units)}
        return Response(body)


@extend_schema(
    description=gettext_lazy(
        "Which orders consumed a lot, and which units and lots they made, up to end items."
    )
)
class WhereUsedView(APIView):
    policy_resource = "quality.trace"

    @extend_schema(parameters=[ITEM_PARAM], responses=OpenApiTypes.OBJECT)
    def get(self, request, lot_code: str):
        try:
            lot = lot_find(code=lot_code, item=request.query_params.get("item") or None)
        except TraceNotFound as exc:
            raise NotFound(str(exc)) from exc
        except TraceAmbiguous as exc:
            return _ambiguous(exc)
        used = where_used(lot=lot)
        return Response({**plain(used), "end_units": len(used.end_units)})


@extend_schema(
    description=gettext_lazy(
        "An order's trace codes; issue the next ones (labels printed before production)."
    )
)
class TraceCodeView(APIView):
    policy_resource = "quality.tracecode"
    policy_actions = {"POST": "issue"}

    @extend_schema(
        parameters=[
            OpenApiParameter("order", str, required=True, description=gettext_lazy("Order number"))
        ],
        responses={
            200: serializers.TraceCodeSerializer(many=True),
            404: OpenApiResponse(description=gettext_lazy("No such order.")),
        },
    )
    def get(self, request):
        number = (request.query_params.get("order") or "").strip()
        if not number:
            raise ValidationError(
                {"order": gettext("Name the order: ?order=NUMBER.")}, code="required"
            )
        order = ProductionOrder.objects.filter(number=number).first()
        if order is None:
            raise NotFound(gettext("No order %(number)s.") % {"number": number})
        codes = TraceCode.objects.filter(order=order).select_related("item", "order", "unit", "lot")
        return Response(serializers.TraceCodeSerializer(codes.order_by("code"), many=True).data)

    @extend_schema(
        request=serializers.TraceCodeIssueSerializer,
        responses={
            201: serializers.TraceCodeSerializer(many=True),
            200: OpenApiResponse(
                serializers.TraceCodeSerializer(many=True),
                gettext_lazy("The same request_id again."),
            ),
        },
    )
    def post(self, request):
        data = serializers.TraceCodeIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        number = data.validated_data["order"]
        order = ProductionOrder.objects.select_related("item").filter(number=number).first()
        if order is None:
            raise ValidationError(
                {"order": gettext("No order %(number)s.") % {"number": number}},
                code="does_not_exist",
            )
        codes, created = trace_codes_issue_for_order(
            order=order,
            count=data.validated_data["count"],
            request_id=data.validated_data["request_id"],
            by=request.user,
        )
        codes = TraceCode.objects.filter(pk__in=[c.pk for c in codes]).select_related(
            "item", "order", "unit", "lot"
        )
        return Response(
            serializers.TraceCodeSerializer(codes.order_by("code"), many=True).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- reports (mounted under /api/v1/quality/) ------------------------------------------

FILTER_PARAMETERS = [
    OpenApiParameter(
        "from", str, description=gettext_lazy("First day, YYYY-MM-DD (default: 30 days ago)")
    ),
    OpenApiParameter("to", str, description=gettext_lazy("Last day, YYYY-MM-DD (default: today)")),
    OpenApiParameter("work_center", str, description=gettext_lazy("Work center code")),
    OpenApiParameter("item", str, description=gettext_lazy("Item code")),
]


def _report_filter(request) -> ReportFilter:
    try:
        return report_filter_parse(request.query_params)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


@extend_schema(
    description=gettext_lazy(
        "Failed inspections by defect code or by operation: count, share, cumulative %."
    )
)
class ParetoView(APIView):
    policy_resource = "quality.report"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "by", str, enum=["defect", "operation"], description=gettext_lazy("default defect")
            ),
            *FILTER_PARAMETERS,
        ],
        responses=serializers.ParetoBarSerializer(many=True),
    )
    def get(self, request):
        by = request.query_params.get("by") or "defect"
        if by not in ("defect", "operation"):
            raise ValidationError({"by": gettext("Use 'defect' or 'operation'.")})
        report_filter = _report_filter(request)
        bars = defect_pareto(report_filter) if by == "defect" else operation_pareto(report_filter)
        return Response(serializers.ParetoBarSerializer(bars, many=True).data)


@extend_schema(
    description=gettext_lazy("First-pass yield per operation and per line (RTY and simple ratio).")
)
class YieldView(APIView):
    policy_resource = "quality.report"

    @extend_schema(parameters=FILTER_PARAMETERS, responses=serializers.YieldReportSerializer)
    def get(self, request):
        return Response(
            serializers.YieldReportSerializer(yield_report(_report_filter(request))).data
        )


@extend_schema(description=gettext_lazy("Defect rate and first-pass yield per day or week."))
class TrendView(APIView):
    policy_resource = "quality.report"

    @extend_schema(
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter(
                "bucket", str, enum=["day", "week"], description=gettext_lazy("default by span")
            ),
        ],
        responses=serializers.TrendPointSerializer(many=True),
    )
    def get(self, request):
        return Response(
            serializers.TrendPointSerializer(trend_report(_report_filter(request)), many=True).data
        )


@extend_schema(
    description=gettext_lazy(
        "Every unit and lot of an order with its inspections, dispositions and a summary."
    )
)
class OrderQualityView(APIView):
    policy_resource = "quality.report"

    @extend_schema(responses=serializers.OrderQualitySerializer)
    def get(self, request, number: str):
        order = ProductionOrder.objects.select_related("item").filter(number=number).first()
        if order is None:
            raise NotFound(gettext("No order %(number)s.") % {"number": number})
        return Response(serializers.OrderQualitySerializer(order_quality_report(order)).data)
