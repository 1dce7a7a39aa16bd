"""Execution's API: tasks and dispatching, production events, material, exceptions
(WorkAlert) and progress. Views call services and selectors; serializers shape the data."""

from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import (
    NON_FIELD_KEYS,
    NUL_CODE,
    NUL_MESSAGE,
    error_body,
    error_entry,
    nul_paths,
    summarize,
)
from core.gc_pause import gc_paused
from core.lists import list_text
from core.policy import require
from core.signatures import SignatureError, signature_api_error, signature_guard
from planning.models import ProductionOrder
from resources.api.serializers import StockMoveSerializer

from .. import filtersets
from ..models import (
    DispatchDecision,
    EventApproval,
    IssueApproval,
    LabourBooking,
    MaterialIssue,
    MaterialRequirement,
    MaterialShortage,
    ProductionEvent,
    ProgressSnapshot,
    Task,
    WorkAlert,
)
from ..selectors.board import FLAGS, SORTS, board_select
from ..selectors.ownership import events_visible, is_floor_only, tasks_visible
from ..selectors.progress import ACTIVE, progress_details
from ..services import alerts as alert_services
from ..services import approvals as approval_services
from ..services import material as material_services
from ..services import tasks as task_services
from ..services.events import EventResult, events_record
from ..tasks import progress_rollup
from . import serializers

BOARD_API_LIMIT = 1000


@extend_schema(description=gettext_lazy("Shop-floor tasks. Operators see only their own."))
class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.task"
    serializer_class = serializers.TaskSerializer
    filterset_class = filtersets.TaskFilterSet

    def get_queryset(self):
        qs = Task.objects.select_related("order__item", "operation", "operator", "equipment")
        return tasks_visible(qs, self.request.user)

    @extend_schema(request=serializers.TaskAssignSerializer, responses=serializers.TaskSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        data = serializers.TaskAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = task_services.task_assign(
            task=self.get_object(), by=request.user, **data.validated_data
        )
        return Response(self.get_serializer(task).data)


@extend_schema(
    description=gettext_lazy(
        "Ask for the next task of a machine; the decision and its reason are recorded."
    )
)
class DispatchView(APIView):
    policy_resource = "execution.task"
    policy_actions = {"POST": "dispatch"}

    @extend_schema(
        request=serializers.DispatchInputSerializer,
        responses={
            200: serializers.TaskSerializer,
            204: OpenApiResponse(
                description=gettext_lazy(
                    "No ready task for this machine (the decision is recorded)."
                )
            ),
        },
    )
    def post(self, request):
        data = serializers.DispatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = task_services.dispatch_next(
            equipment=data.validated_data["equipment"], by=request.user
        )
        if task is None:
            # 204 carries no body: the reason is in the recorded dispatch decision.
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializers.TaskSerializer(task).data)


class DispatchDecisionViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.dispatchdecision"
    queryset = DispatchDecision.objects.select_related("equipment")
    serializer_class = serializers.DispatchDecisionSerializer
    filterset_class = filtersets.DispatchDecisionFilterSet


# The `code` of the error entries of a rejected event, by its status code.
REJECTION_CODES = {400: "invalid", 403: "permission_denied", 404: "not_found", 409: "conflict"}
MAX_BATCH = 5000


def event_answer(result: EventResult, *, row: int | None = None) -> dict:
    """One event's answer; a rejection carries the API's error body (docs/api-errors.md):
    `detail`, and `errors` naming the field and, in a batch, the row (its index in the list)."""
    answer = result.as_dict()
    if result.status != "rejected":
        return answer
    code = REJECTION_CODES.get(result.code, "invalid")
    whole = [str(m) for k, m in result.errors.items() if k in NON_FIELD_KEYS]
    entries = [
        error_entry(m, field=k, code=code)
        for k, m in result.errors.items()
        if k not in NON_FIELD_KEYS
    ]
    detail = summarize(whole, entries)
    if row is not None:  # in a batch the row itself is at fault, even with no field named
        entries = [error_entry(m, row=row, code=code) for m in whole] + [
            {"row": row, **e} for e in entries
        ]
    answer.pop("errors", None)
    return {**answer, **error_body(detail, entries)}


def nul_answer(data, paths: list[str], *, row: int | None = None) -> dict:
    """The rejection of an event holding a NUL character (no text column takes one)."""
    entries = [error_entry(gettext(NUL_MESSAGE), field=p, code=NUL_CODE) for p in paths]
    detail = summarize([], entries)
    if row is not None:
        entries = [{"row": row, **e} for e in entries]
    event_id = data.get("event_id") if isinstance(data, dict) else None
    event_id = event_id[:100] if isinstance(event_id, str) else ""
    return {"event_id": event_id, "status": "rejected", "code": 400, **error_body(detail, entries)}


@extend_schema(
    description=gettext_lazy(
        "Production events. POST one event (an object) or a batch (a list); each event "
        "is answered on its own with `accepted`, `duplicate` (same event_id seen "
        "before: nothing changes) or `rejected` with the errors and the status code it "
        "would have alone."
    )
)
class ProductionEventViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.productionevent"
    serializer_class = serializers.ProductionEventSerializer
    filterset_class = filtersets.ProductionEventFilterSet
    # DRF's plain JSON parser, not the project's: a NUL character in one event of a batch
    # rejects that event only (create), not the whole batch.
    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]

    def get_queryset(self):
        qs = ProductionEvent.objects.select_related("order", "operation", "operator", "equipment")
        return events_visible(qs, self.request.user)

    @extend_schema(
        request=serializers.EventInputSerializer(many=True),
        responses={
            # A batch: one answer per event, in order (not a page of a list); or one event
            # already recorded (a duplicate).
            200: OpenApiResponse(
                {
                    "oneOf": [
                        {"type": "array", "items": {"$ref": "#/components/schemas/EventResult"}},
                        {"$ref": "#/components/schemas/EventResult"},
                    ]
                },
                description=gettext_lazy(
                    "A batch's answers in the order sent, or one duplicate event."
                ),
            ),
            201: OpenApiResponse(
                serializers.EventResultSerializer, gettext_lazy("One event, accepted.")
            ),
            202: OpenApiResponse(
                serializers.EventResultSerializer, gettext_lazy("One event, held.")
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        body = request.data
        source = ProductionEvent.Source.API
        if isinstance(body, list):
            if len(body) > MAX_BATCH:
                return Response(
                    error_body(
                        gettext("At most %(count)s events per batch.") % {"count": f"{MAX_BATCH:,}"}
                    ),
                    status=400,
                )
            with_nul = {
                row: paths for row, data in enumerate(body) if (paths := list(nul_paths(data)))
            }
            rows = [row for row in range(len(body)) if row not in with_nul]
            results = events_record(
                items=[body[row] for row in rows], by=request.user, source=source
            )
            answers: list = [None] * len(body)
            for row, result in zip(rows, results, strict=True):
                answers[row] = event_answer(result, row=row)
            for row, paths in with_nul.items():
                answers[row] = nul_answer(body[row], paths, row=row)
            return Response(answers, status=status.HTTP_200_OK)
        if not isinstance(body, dict):
            return Response(
                error_body(gettext("Send an event object or a list of them.")), status=400
            )
        if paths := list(nul_paths(body)):
            return Response(nul_answer(body, paths), status=status.HTTP_400_BAD_REQUEST)
        result = events_record(items=[body], by=request.user, source=source)[0]
        return Response(event_answer(result), status=result.code)


class RequirementViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.materialrequirement"
    queryset = MaterialRequirement.objects.select_related("order", "operation", "item")
    serializer_class = serializers.RequirementSerializer
    filterset_class = filtersets.MaterialRequirementFilterSet


@extend_schema(
    description=gettext_lazy(
        "Material issues. An issue beyond the requirement plus tolerance answers 202 "
        "with an approval request instead; stock moves when a planner approves it."
    )
)
class IssueViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.materialissue"
    queryset = MaterialIssue.objects.select_related("lot", "location")
    serializer_class = serializers.IssueSerializer

    @extend_schema(
        request=serializers.IssueInputSerializer,
        responses={
            201: serializers.IssueSerializer,
            202: serializers.ApprovalSerializer,
            200: OpenApiResponse(
                description=gettext_lazy(
                    "A repeated external_id: what the first request made (an issue "
                    "or an approval request), nothing changed."
                )
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        data = serializers.IssueInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Operators issue only against their own tasks (execution/selectors/ownership.py).
        require(
            request.user,
            "execution.materialrequirement",
            "issue",
            data.validated_data["requirement"],
        )
        external_id = data.validated_data.get("external_id")
        seen = bool(external_id) and (
            MaterialIssue.objects.filter(external_id=external_id).exists()
            or IssueApproval.objects.filter(external_id=external_id).exists()
        )
        result = material_services.material_issue(by=request.user, **data.validated_data)
        if isinstance(result, IssueApproval):
            body, made = serializers.ApprovalSerializer(result).data, status.HTTP_202_ACCEPTED
        else:
            body, made = serializers.IssueSerializer(result).data, status.HTTP_201_CREATED
        return Response(body, status=status.HTTP_200_OK if seen else made)


class ApprovalViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.issueapproval"
    policy_actions = {"approve": "approve", "reject": "approve"}
    queryset = IssueApproval.objects.select_related(
        "requirement__order", "requirement__item", "location"
    )
    serializer_class = serializers.ApprovalSerializer
    filterset_class = filtersets.IssueApprovalFilterSet

    def _decide(self, request, approve: bool):
        data = serializers.DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with signature_guard(request):
            approval = material_services.issue_approval_decide(
                approval=self.get_object(),
                approve=approve,
                by=request.user,
                note=data.validated_data.get("reason") or data.validated_data["note"],
                password=data.validated_data.get("password", ""),
            )
        return Response(self.get_serializer(approval).data)

    @extend_schema(request=serializers.DecisionInputSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, True)

    @extend_schema(request=serializers.DecisionInputSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, False)


@extend_schema(
    description=gettext_lazy(
        "Production events held for approval (backdated, or over-delivering). A "
        "supervisor of the task's work center approves (the event is booked, once) or "
        "rejects, signed: the password once more and a reason."
    )
)
class EventApprovalViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.eventapproval"
    policy_actions = {"approve": "approve", "reject": "approve"}
    serializer_class = serializers.EventApprovalSerializer
    filterset_class = filtersets.EventApprovalFilterSet

    def get_queryset(self):
        qs = EventApproval.objects.select_related(
            "task__order", "task__operation__work_center", "requested_by", "decided_by"
        )
        if is_floor_only(self.request.user):
            qs = qs.filter(requested_by=self.request.user)
        return qs

    def _decide(self, request, approve: bool):
        data = serializers.SignedDecisionSerializer(data=request.data)
        data.signature_meaning = "approved" if approve else "rejected"
        data.is_valid(raise_exception=True)
        try:
            with signature_guard(request):
                approval = approval_services.event_approval_decide(
                    approval=self.get_object(),
                    approve=approve,
                    by=request.user,
                    password=data.validated_data["password"],
                    reason=data.validated_data["reason"],
                )
        except SignatureError as exc:
            raise signature_api_error(exc) from None
        return Response(self.get_serializer(approval).data)

    @extend_schema(request=serializers.SignedDecisionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, True)

    @extend_schema(request=serializers.SignedDecisionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, False)


@extend_schema(
    description=gettext_lazy(
        "Labour bookings: booked time stops at the shift's end, the excess is flagged. "
        "A supervisor corrects a booking's minutes, signed; the original minutes are "
        "kept."
    )
)
class LabourBookingViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.labourbooking"
    serializer_class = serializers.LabourBookingSerializer
    filterset_class = filtersets.LabourBookingFilterSet

    def get_queryset(self):
        qs = LabourBooking.objects.select_related(
            "operator", "task__order", "task__operation", "corrected_by"
        )
        if is_floor_only(self.request.user):
            operator = getattr(self.request.user, "operator", None)
            qs = qs.filter(operator=operator) if operator else qs.none()
        return qs

    @extend_schema(
        request=serializers.LabourCorrectionSerializer,
        responses=serializers.LabourBookingSerializer,
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        data = serializers.LabourCorrectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with signature_guard(request):
                booking = approval_services.labour_booking_correct(
                    booking=self.get_object(),
                    minutes=data.validated_data["minutes"],
                    by=request.user,
                    password=data.validated_data["password"],
                    reason=data.validated_data["reason"],
                )
        except SignatureError as exc:
            raise signature_api_error(exc) from None
        return Response(self.get_serializer(booking).data)


class ShortageViewSet(viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.materialshortage"
    queryset = MaterialShortage.objects.select_related(
        "requirement__order",
        "requirement__operation",
        "requirement__item",
        "requisition",
        "transfer_from",
    )
    serializer_class = serializers.ShortageSerializer
    filterset_class = filtersets.MaterialShortageFilterSet


@extend_schema(
    description=gettext_lazy(
        "Goods receipt by scanning a label (ITEM*LOT*QTY); a repeated scan id is a no-op."
    )
)
class ReceiptView(APIView):
    policy_resource = "execution.receipt"

    @extend_schema(request=serializers.ReceiptInputSerializer, responses=StockMoveSerializer)
    def post(self, request):
        data = serializers.ReceiptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        move = material_services.barcode_receipt(by=request.user, **data.validated_data)
        return Response(StockMoveSerializer(move).data, status=status.HTTP_201_CREATED)


@extend_schema(
    description=gettext_lazy(
        "Exceptions. Anyone signed in may raise one (a repeated external_id answers "
        "200 with the first); acknowledging and resolving are for the role the "
        "exception is routed to (403 otherwise)."
    )
)
class WorkAlertViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    policy_resource = "execution.workalert"
    policy_actions = {"move_to_backup": "backup"}
    serializer_class = serializers.WorkAlertSerializer
    filterset_class = filtersets.WorkAlertFilterSet

    def get_queryset(self):
        return WorkAlert.objects.select_related(
            "equipment", "order", "operation", "handler", "requisition"
        ).prefetch_related("steps__by")

    @extend_schema(
        request=serializers.RaiseSerializer,
        responses={201: serializers.WorkAlertSerializer, 200: serializers.WorkAlertSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = serializers.RaiseSerializer(data=request.data)
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

    @extend_schema(request=serializers.ResolveSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        data = serializers.ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = alert_services.alert_resolve(
            alert=self.get_object(), by=request.user, **data.validated_data
        )
        return self._answer(alert)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return self._answer(alert_services.alert_verify(alert=self.get_object(), by=request.user))

    @extend_schema(request=serializers.BackupSerializer)
    @action(detail=True, methods=["post"], url_path="move-to-backup")
    def move_to_backup(self, request, pk=None):
        data = serializers.BackupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = alert_services.alert_move_to_backup(
            alert=self.get_object(), backup=data.validated_data["backup"], by=request.user
        )
        return self._answer(alert)


@extend_schema(
    description=gettext_lazy(
        "The latest roll-up of one order: the order's snapshot first, then its operations'."
    )
)
class ProgressView(APIView):
    policy_resource = "execution.progress"

    @extend_schema(
        operation_id="execution_progress_list",
        parameters=[
            OpenApiParameter("order", str, required=True, description=gettext_lazy("Order number"))
        ],
        responses={
            200: serializers.ProgressSnapshotSerializer(many=True),
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
        return Response(serializers.ProgressSnapshotSerializer(rows, many=True).data)


@extend_schema(
    description=gettext_lazy(
        "Run the hourly roll-up now (queued to a worker). Same hour, same rows: safe to repeat."
    )
)
class ProgressRollupView(APIView):
    policy_resource = "execution.progress"
    policy_actions = {"POST": "rollup"}

    @extend_schema(operation_id="execution_progress_rollup", request=None, responses={202: dict})
    def post(self, request):
        result = progress_rollup.delay()
        body = {"task_id": result.id, "status": "queued"}
        if progress_rollup.app.conf.task_always_eager:  # ran in-process: report what it did
            body.update(status="done", result=result.get())
        return Response(body, status=status.HTTP_202_ACCEPTED)


def _board_limit_text() -> str:
    return gettext("Rows, 1–%(limit)d (100)") % {"limit": BOARD_API_LIMIT}


@extend_schema(
    description=gettext_lazy(
        "The order board as data: every open order's colour (the attainment rule: green "
        "from 90 %, yellow 50–89 %, red below 50 %), planned by now against done, "
        "lagging, the predicted end and delay, the reasons and the operations — the "
        "rows the board page shows, with the same filters and sorts."
    )
)
class BoardView(APIView):
    policy_resource = "execution.board"

    @extend_schema(
        operation_id="execution_board",
        parameters=[
            OpenApiParameter(
                "work_center", str, description=gettext_lazy("Orders with an operation here")
            ),
            OpenApiParameter("status", str, enum=list(ACTIVE)),
            OpenApiParameter("flag", str, enum=list(FLAGS)),
            OpenApiParameter("sort", str, enum=list(SORTS), default="due"),
            OpenApiParameter("limit", int, description=lazy(_board_limit_text, str)()),
        ],
        responses=serializers.BoardSerializer,
    )
    def get(self, request):
        params = request.query_params
        filters = {
            "work_center": (params.get("work_center") or "").strip(),
            "status": params.get("status") or "",
            "flag": params.get("flag") or "",
            "sort": params.get("sort") or "due",
        }
        choices = {"status": ACTIVE, "flag": tuple(FLAGS), "sort": tuple(SORTS)}
        for name, allowed in choices.items():
            if filters[name] and filters[name] not in allowed:
                raise ValidationError(
                    {name: gettext("One of: %(allowed)s.") % {"allowed": list_text(allowed)}}
                )
        limit = params.get("limit") or "100"
        if not limit.isdigit() or not 1 <= int(limit) <= BOARD_API_LIMIT:
            raise ValidationError(
                {
                    "limit": gettext("A whole number from 1 to %(maximum)d.")
                    % {"maximum": BOARD_API_LIMIT}
                }
            )
        now = timezone.now()
        with gc_paused():
            orders, counts = board_select(now=now, **filters)
            shown = progress_details(orders[: int(limit)], now=now)
            body = serializers.BoardSerializer(
                {"at": now, "counts": counts, "count": len(orders), "results": shown}
            ).data
        return Response(body)
