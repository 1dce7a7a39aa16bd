"""Quality API: plans (read, new version), defect codes and rules (master data), inspection
records (entry, correction, disposition) and holds (release)."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import roles_may_write
from core.roles import Role

from ..models import (
    DefectCode,
    DefectRateRule,
    InspectionPlan,
    InspectionRecord,
    Measurement,
    QualityHold,
)
from ..services import holds as hold_services
from ..services import inspections as services
from . import serializers as s

QualityWrites = roles_may_write(Role.QUALITY_SUPERVISOR)
InspectionWrites = roles_may_write(*services.RECORD_ROLES)


class InspectionPlanViewSet(viewsets.ReadOnlyModelViewSet):
    """Inspection plans, every version. A new version is made with `new-version`; plans
    themselves are master data kept in the admin."""

    serializer_class = s.InspectionPlanSerializer
    permission_classes = [QualityWrites]
    filterset_fields = ["code", "active", "routing_step"]
    queryset = InspectionPlan.objects.select_related(
        "routing_step__routing__item", "routing_step__work_center"
    ).prefetch_related("characteristics")

    @extend_schema(request=s.PlanVersionInputSerializer, responses=s.InspectionPlanSerializer)
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        data = s.PlanVersionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = services.inspection_plan_new_version(
            plan=self.get_object(), by=request.user, **data.validated_data
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=plan.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class DefectCodeViewSet(viewsets.ModelViewSet):
    queryset = DefectCode.objects.all()
    serializer_class = s.DefectCodeSerializer
    permission_classes = [QualityWrites]
    filterset_fields = ["code"]


class DefectRateRuleViewSet(viewsets.ModelViewSet):
    queryset = DefectRateRule.objects.select_related("routing_step", "work_center")
    serializer_class = s.DefectRateRuleSerializer
    permission_classes = [QualityWrites]
    filterset_fields = ["work_center__code", "routing_step"]


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


class InspectionRecordViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Inspection records (append-only). POST an inspection: 201 with the record and its
    verdict, 200 with the first record when the external_id was seen before. Bad input is a
    400 naming the field (`values` names the characteristic); a correction is a new record
    (`correct`), and a failed record takes a disposition (`disposition`)."""

    serializer_class = s.InspectionRecordSerializer
    permission_classes = [InspectionWrites]
    filterset_fields = [
        "order__number",
        "operation__sequence",
        "unit__serial",
        "lot__code",
        "result",
        "plan__code",
        "work_center__code",
    ]

    def get_queryset(self):
        return _records()

    def _answer(self, record, created: bool) -> Response:
        body = self.get_serializer(_records().get(pk=record.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=s.InspectionInputSerializer, responses=s.InspectionRecordSerializer)
    def create(self, request, *args, **kwargs):
        data = s.InspectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        existing = InspectionRecord.objects.filter(external_id=v["external_id"]).first()
        if existing is not None:  # a retry: answer before looking at anything else
            return self._answer(existing, False)
        operation = services.operation_find(order=v["order"], sequence=v["sequence"])
        record, created = services.inspection_record(
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

    @extend_schema(request=s.CorrectionInputSerializer, responses=s.InspectionRecordSerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        data = s.CorrectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        record, created = services.inspection_correct(
            record=self.get_object(),
            external_id=v["external_id"],
            values=v["values"],
            defect_code=v.get("defect_code"),
            reason=v.get("reason", ""),
            gauge=v.get("gauge"),
            inspected_at=v.get("inspected_at"),
            by=request.user,
        )
        return self._answer(record, created)

    @extend_schema(request=s.DispositionInputSerializer, responses=s.DispositionSerializer)
    @action(detail=True, methods=["post"])
    def disposition(self, request, pk=None):
        data = s.DispositionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        disposition, created = services.disposition_record(
            record=self.get_object(), by=request.user, **data.validated_data
        )
        # A retried request (the same decision again) answers 200 with the first.
        return Response(
            s.DispositionSerializer(disposition).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class QualityHoldViewSet(viewsets.ReadOnlyModelViewSet):
    """Quality holds; `release` is for quality supervisors, with a reason (403 otherwise)."""

    serializer_class = s.QualityHoldSerializer
    filterset_fields = ["status", "work_center__code"]
    queryset = QualityHold.objects.select_related(
        "routing_step__routing__item", "work_center", "equipment", "alert", "released_by"
    )

    @extend_schema(request=s.HoldReleaseInputSerializer, responses=s.QualityHoldSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        # No input serializer here: the role is checked before the reason, so a production
        # supervisor learns that he may not release, not that his reason was missing.
        body = request.data if hasattr(request.data, "get") else {}
        hold = hold_services.hold_release(
            hold=self.get_object(), reason=str(body.get("reason") or ""), by=request.user
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=hold.pk)).data)
