"""Exceptions board (HTMX): open exceptions by severity with a countdown to their deadline,
acknowledge / resolve by role, filters by type, work center and order; the timeline."""

from uuid import uuid4

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import StateConflict
from core.views_helpers import error_text, policy_required, whole_number
from planning.models import ProductionOrder
from resources.models import Equipment, WorkCenter

from ..models import AlertType, Severity, WorkAlert
from ..services import alerts as alert_services

OPEN = (WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED)


def alert_rows(params, *, limit: int = 300) -> list[dict]:
    """The exceptions board's rows for these filters (`params`: the query string), severe
    and nearest deadline first, each with its countdown; also the board's open-exceptions
    panel (views/board.py)."""
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
    show = params.get("show", "open")
    if show == "open":
        qs = qs.filter(status__in=OPEN)
    if params.get("type") in AlertType.values:
        qs = qs.filter(alert_type=params["type"])
    if wc := params.get("work_center"):
        qs = qs.filter(Q(equipment__work_center__code=wc) | Q(operation__work_center__code=wc))
    if order := params.get("order"):
        qs = qs.filter(order__number__icontains=order)
    now = timezone.now()
    rows = []
    for alert in qs[:limit]:
        left = (alert.ack_deadline - now).total_seconds() if alert.ack_deadline else None
        rows.append(
            {
                "alert": alert,
                "minutes_left": None if left is None else int(left // 60),
                "overdue_minutes": None if left is None else int(-left // 60),
                "overdue": alert.status == WorkAlert.Status.OPEN and left is not None and left < 0,
                # Seconds left when the server rendered the row: the page ticks from there with
                # the browser's own elapsed time, so a terminal whose clock is off still counts
                # down to the server's deadline.
                "seconds_left": None if left is None else int(left),
            }
        )
    return rows


def _raise_context(**extra) -> dict:
    return {
        "types": AlertType.choices,
        "severities": Severity.choices,
        "machines": Equipment.objects.order_by("code"),
        "raise_id": str(uuid4()),
        **extra,
    }


@policy_required("execution.workalert.view")
def alert_board(request):
    context = {
        "rows": alert_rows(request.GET),
        "work_centers": WorkCenter.objects.order_by("code").values_list("code", flat=True),
        "query": request.GET,
        # The countdown's words for the page's script, in the reader's language.
        "countdown_words": {
            "left": _("%(minutes)s min left"),
            "overdue": _("overdue by %(minutes)s min"),
        },
        **_raise_context(),
    }
    template = "execution/partials/alerts_table.html" if request.htmx else "execution/alerts.html"
    return render(request, template, context)


@policy_required("execution.workalert.view")
def alert_detail(request, pk: int):
    alert = get_object_or_404(
        WorkAlert.objects.select_related(
            "equipment", "order", "operation", "requisition"
        ).prefetch_related("steps__by"),
        pk=pk,
    )
    return render(request, "execution/alert_detail.html", {"alert": alert, "error": None})


@require_POST
@policy_required("execution.workalert.{act}")
def alert_act(request, pk: int, act: str):
    alert = get_object_or_404(WorkAlert, pk=pk)
    error, code = None, 200
    if act == "resolve" and request.POST.get("confirm") != "1":
        # Resolving cannot be undone: the first POST asks, the confirmation posts confirm=1.
        alert = (
            WorkAlert.objects.select_related("equipment", "order", "operation", "requisition")
            .prefetch_related("steps__by")
            .get(pk=pk)
        )
        confirm = {"cause": request.POST.get("cause", ""), "action": request.POST.get("action", "")}
        return render(
            request,
            "execution/partials/alert_body.html" if request.htmx else "execution/alert_detail.html",
            {"alert": alert, "error": None, "confirm_resolve": confirm},
        )
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
                raise ValidationError({"backup": _("Choose a backup machine.")})
            alert_services.alert_move_to_backup(alert=alert, backup=backup, by=request.user)
        else:
            error, code = f"Unknown action {act!r}.", 400
    except PermissionDenied as exc:
        error, code = str(exc) or "You may not do this.", 403
    except StateConflict as exc:
        error, code = str(exc), 409
    except ValidationError as exc:
        error, code = error_text(exc), 400
    alert = (
        WorkAlert.objects.select_related("equipment", "order", "operation", "requisition")
        .prefetch_related("steps__by")
        .get(pk=pk)
    )
    # A form posted without JavaScript gets the whole page back.
    template = (
        "execution/partials/alert_body.html" if request.htmx else "execution/alert_detail.html"
    )
    return render(request, template, {"alert": alert, "error": error}, status=code)


@require_POST
@policy_required("execution.workalert.add")
def alert_raise_view(request):
    """Raise an exception from the exceptions page (anyone signed in, as through the API):
    type, severity, what happened, and the machine or order it concerns. The form's id
    makes a second submit of the same form change nothing."""
    post = request.POST
    machine = order = None
    error = None
    if code := (post.get("equipment") or "").strip():
        machine = Equipment.objects.filter(code=code).first()
        if machine is None:
            error = f"No machine {code}."
    operation = None
    if not error and (number := (post.get("order") or "").strip()):
        order = ProductionOrder.objects.filter(number=number).first()
        if order is None:
            error = f"No order {number}."
        elif sequence := (post.get("sequence") or "").strip():
            operation = order.operations.filter(
                sequence=-1 if whole_number(sequence) is None else whole_number(sequence)
            ).first()
            if operation is None:
                error = f"{number} has no operation {sequence}."
    if error is None:
        form_id = (post.get("raise_id") or "").strip()[:60]
        try:
            alert = alert_services.alert_raise(
                alert_type=post.get("alert_type", ""),
                severity=post.get("severity", ""),
                description=(post.get("description") or "").strip()[:1000],
                equipment=machine,
                order=order,
                operation=operation,
                external_id=f"web-{form_id}" if form_id else None,
                by=request.user,
            )
        except ValidationError as exc:
            error = error_text(exc)
    if error is not None:
        context = _raise_context(error=error, values=post)
        return render(request, "execution/partials/alert_raise.html", context, status=400)
    url = reverse("execution:alert_detail", args=[alert.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
