"""Trace API (mounted under /api/v1/quality/).

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
"""

import dataclasses
from datetime import date, datetime
from decimal import Decimal

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_body, error_entry, roles_may_write
from planning.models import ProductionOrder

from .genealogy import TraceAmbiguous, TraceNotFound, genealogy, lot_find, where_used
from .models import TraceCode
from .services.trace import (
    MAX_BATCH,
    TRACE_CODE_ISSUERS,
    trace_codes_issue_for_order,
    trace_lookup,
)

ITEM_PARAM = OpenApiParameter(
    "item", str, required=False, description="Item code, where the code repeats across items"
)


def plain(value):
    """Dataclasses, Decimals and datetimes as JSON-ready values (quantities as strings,
    like the rest of the API)."""
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _ambiguous(exc: TraceAmbiguous) -> Response:
    # `candidates` lists what `item` may name, for a program to choose from.
    return Response(
        error_body(str(exc), [error_entry(str(exc), field="item")], candidates=exc.candidates),
        status=status.HTTP_400_BAD_REQUEST,
    )


class TraceView(APIView):
    """The full history of the unit or lot a trace code names."""

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


class WhereUsedView(APIView):
    """Which orders consumed a lot, and which units and lots they made, up to end items."""

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


class TraceCodeSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")
    order = serializers.CharField(source="order.number", allow_null=True, default=None)
    unit = serializers.CharField(source="unit.serial", allow_null=True, default=None)
    lot = serializers.CharField(source="lot.code", allow_null=True, default=None)
    label_url = serializers.SerializerMethodField()

    class Meta:
        model = TraceCode
        fields = ["code", "item", "order", "unit", "lot", "issued_at", "printed_at", "label_url"]

    def get_label_url(self, obj) -> str:
        try:
            return reverse("quality:label", kwargs={"code": obj.code})
        except Exception:  # the pages are not routed (API-only deployment)
            return ""


class TraceCodeIssueSerializer(serializers.Serializer):
    order = serializers.CharField(max_length=32)
    count = serializers.IntegerField(min_value=1, max_value=MAX_BATCH)
    request_id = serializers.CharField(max_length=100)


class TraceCodeView(APIView):
    """An order's trace codes; issue the next ones (labels printed before production)."""

    permission_classes = [roles_may_write(*TRACE_CODE_ISSUERS)]

    @extend_schema(
        parameters=[OpenApiParameter("order", str, required=True, description="Order number")],
        responses=TraceCodeSerializer(many=True),
    )
    def get(self, request):
        number = (request.query_params.get("order") or "").strip()
        if not number:
            raise ValidationError({"order": "Name the order: ?order=NUMBER."}, code="required")
        order = ProductionOrder.objects.filter(number=number).first()
        if order is None:
            raise NotFound(f"No order {number}.")
        codes = TraceCode.objects.filter(order=order).select_related("item", "order", "unit", "lot")
        return Response(TraceCodeSerializer(codes.order_by("code"), many=True).data)

    @extend_schema(request=TraceCodeIssueSerializer, responses=TraceCodeSerializer(many=True))
    def post(self, request):
        data = TraceCodeIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        number = data.validated_data["order"]
        order = ProductionOrder.objects.select_related("item").filter(number=number).first()
        if order is None:
            raise ValidationError({"order": f"No order {number}."}, code="does_not_exist")
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
            TraceCodeSerializer(codes.order_by("code"), many=True).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


urlpatterns = [
    path("trace/<path:code>/", TraceView.as_view(), name="quality-trace"),
    path("where-used/<path:lot_code>/", WhereUsedView.as_view(), name="quality-where-used"),
    path("trace-codes/", TraceCodeView.as_view(), name="quality-trace-codes"),
]
