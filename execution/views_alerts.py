"""Exceptions board (HTMX): open exceptions by severity with a countdown to their deadline,
acknowledge / resolve by role, filters by type, work center and order; the timeline."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.exceptions import StateConflict
from resources.models import Equipment, WorkCenter

from .models import AlertType, Severity, WorkAlert
from .services import alerts as alert_services

OPEN = (WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED)


def _alerts(request):
    qs = (
        WorkAlert.objects.select_related(
            "equipment__work_center", "order", "operation__work_center", "handler"
        )
        .annotate(
            rank=Case(
                When(severity=Severity.SEVERE, then=Value(0)),
                When(severity=Severity.URGENT, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "ack_deadline", "-raised_at")
    )
    show = request.GET.get("show", "open")
    if show == "open":
        qs = qs.filter(status__in=OPEN)
    if request.GET.get("type") in AlertType.values:
        qs = qs.filter(alert_type=request.GET["type"])
    if wc := request.GET.get("work_center"):
        qs = qs.filter(Q(equipment__work_center__code=wc) | Q(operation__work_center__code=wc))
    if order := request.GET.get("order"):
        qs = qs.filter(order__number__icontains=order)
    now = timezone.now()
    rows = []
    for alert in qs[:300]:
        left = (alert.ack_deadline - now).total_seconds() if alert.ack_deadline else None
        rows.append(
            {
                "alert": alert,
                "minutes_left": None if left is None else int(left // 60),
                "overdue_minutes": None if left is None else int(-left // 60),
                "overdue": alert.status == WorkAlert.Status.OPEN and left is not None and left < 0,
                "deadline_ts": int(alert.ack_deadline.timestamp()) if alert.ack_deadline else None,
            }
        )
    return rows


@login_required
def alert_board(request):
    context = {
        "rows": _alerts(request),
        "types": AlertType.choices,
        "work_centers": WorkCenter.objects.order_by("code").values_list("code", flat=True),
        "machines": Equipment.objects.order_by("code"),
        "query": request.GET,
    }
    template = "execution/partials/alerts_table.html" if request.htmx else "execution/alerts.html"
    return render(request, template, context)


@login_required
def alert_detail(request, pk: int):
    alert = get_object_or_404(
        WorkAlert.objects.select_related(
            "equipment", "order", "operation", "requisition"
        ).prefetch_related("steps__by"),
        pk=pk,
    )
    return render(request, "execution/alert_detail.html", {"alert": alert, "error": None})


@require_POST
@login_required
def alert_act(request, pk: int, act: str):
    alert = get_object_or_404(WorkAlert, pk=pk)
    error, code = None, 200
    try:
        if act == "acknowledge":
            alert_services.alert_acknowledge(alert=alert, by=request.user)
        elif act == "resolve":
            alert_services.alert_resolve(
                alert=alert,
                by=request.user,
                cause=request.POST.get("cause", ""),
                action=request.POST.get("action", ""),
            )
        elif act == "verify":
            alert_services.alert_verify(alert=alert, by=request.user)
        elif act == "backup":
            backup = Equipment.objects.filter(code=request.POST.get("backup", "")).first()
            if backup is None:
                raise ValidationError({"backup": "Choose a backup machine."})
            alert_services.alert_move_to_backup(alert=alert, backup=backup, by=request.user)
        else:
            error, code = f"Unknown action {act!r}.", 400
    except PermissionDenied as exc:
        error, code = str(exc) or "You may not do this.", 403
    except StateConflict as exc:
        error, code = str(exc), 409
    except ValidationError as exc:
        error = (
            " ".join(" ".join(v) for v in exc.message_dict.values())
            if hasattr(exc, "error_dict")
            else " ".join(exc.messages)
        )
        code = 400
    alert = (
        WorkAlert.objects.select_related("equipment", "order", "operation", "requisition")
        .prefetch_related("steps__by")
        .get(pk=pk)
    )
    return render(
        request, "execution/partials/alert_body.html", {"alert": alert, "error": error}, status=code
    )


urlpatterns = [
    path("exceptions/", alert_board, name="alerts"),
    path("exceptions/<int:pk>/", alert_detail, name="alert_detail"),
    path("exceptions/<int:pk>/<str:act>/", alert_act, name="alert_act"),
]
