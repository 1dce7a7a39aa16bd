"""Planning pages (HTMX): orders, capacity load and plan check, machine Gantt."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.exceptions import StateConflict
from core.roles import Role
from core.views_helpers import htmx_render, role_required, whole_number
from resources.models import Equipment, Item

from .filtersets import ProductionOrderFilterSet
from .forms import PlanCheckForm
from .models import (
    MpsEntry,
    MrpRun,
    OrderOperation,
    PlannedOrder,
    SalesOrder,
    ScheduleAssignment,
    ScheduleRun,
)
from .selectors.capacity import capacity_load, capacity_plan_check, plant_tz
from .selectors.mrp import mrp_run_results
from .selectors.orders import delayed_orders, production_order_detail, production_orders_list
from .selectors.sales import sales_orders_page
from .services import mrp as mrp_services
from .services import orders as order_services
from .services import schedule as schedule_services
from .services.orders import mps_entry_set

DELAYED_SHOWN = 50  # on the schedule page; the rest are counted

TRANSITIONS = {
    "plan": order_services.production_order_plan,
    "release": order_services.production_order_release,
    "start": order_services.production_order_start,
    "complete": order_services.production_order_complete,
    "close": order_services.production_order_close,
    "cancel": order_services.production_order_cancel,
}


@login_required
def order_list(request):
    filterset = ProductionOrderFilterSet(request.GET, queryset=production_orders_list())
    orders = filterset.qs[:500]
    return htmx_render(
        request,
        "planning/order_list.html",
        "planning/partials/order_table.html",
        {"filter": filterset, "orders": orders},
    )


SALES_STATUSES = tuple(SalesOrder.Status.values)
SALES_SHOWN = 500


SALES_ROLES = (
    Role.PLANNER,
    Role.SUPERVISOR,
    Role.PLANT_MANAGER,
    Role.SUPPLY_CHAIN_DIRECTOR,
    Role.COST_ACCOUNTANT,
)


@role_required(*SALES_ROLES)  # customers' orders: the office, not the floor
def sales_orders(request):
    """Customers' orders with what the plant expects for each: the delay of open exceptions
    and the shop floor's predicted end of its production orders against the due date."""
    status = request.GET.get("status", "open")
    status = status if status in SALES_STATUSES or status == "" else "open"
    at_risk_only = request.GET.get("risk") == "1"
    tz = plant_tz()
    rows = []
    for so in sales_orders_page(status=status)[:SALES_SHOWN]:
        predicted_day = (
            timezone.localtime(so.predicted_end, tz).date() if so.predicted_end else None
        )
        so.at_risk = bool(
            so.status == SalesOrder.Status.OPEN
            and ((predicted_day and predicted_day > so.due_date) or so.expected_delay_minutes)
        )
        if at_risk_only and not so.at_risk:
            continue
        rows.append(so)
    return htmx_render(
        request,
        "planning/sales_orders.html",
        "planning/partials/sales_order_table.html",
        {
            "sales_orders": rows,
            "status": status,
            "at_risk_only": at_risk_only,
            "statuses": SALES_STATUSES,
        },
    )


@login_required
def order_detail(request, pk: int):
    order = get_object_or_404(production_order_detail(), pk=pk)
    allowed = order_services.TRANSITIONS[order.status]
    actions = [name for name, fn in TRANSITIONS.items() if _target(name) in allowed]
    return render(request, "planning/order_detail.html", {"order": order, "actions": actions})


def _target(action: str) -> str:
    return {
        "plan": "planned",
        "release": "released",
        "start": "in_progress",
        "complete": "completed",
        "close": "closed",
        "cancel": "cancelled",
    }[action]


@require_POST
@role_required(Role.PLANNER, Role.SUPERVISOR)
def order_action(request, pk: int, action: str):
    order = get_object_or_404(production_order_detail(), pk=pk)
    error = None
    service = TRANSITIONS.get(action)
    if service is None:
        error = f"Unknown action {action!r}."
    else:
        try:
            order = service(order=order, by=request.user)
        except StateConflict as exc:
            error = str(exc)
    order = production_order_detail().get(pk=pk)
    allowed = order_services.TRANSITIONS[order.status]
    actions = [name for name in TRANSITIONS if _target(name) in allowed]
    return render(
        request,
        "planning/partials/order_header.html",
        {"order": order, "actions": actions, "error": error},
        status=409 if error else 200,
    )


@login_required
def capacity(request):
    today = timezone.localdate()
    try:
        days = max(1, min(int(request.GET.get("days", 14)), 62))
    except ValueError:
        days = 14
    cells = capacity_load(first_day=today, last_day=today + timedelta(days=days - 1))
    grid: dict[str, list] = defaultdict(list)
    for cell in cells:
        grid[cell.work_center].append(cell)
    dates = [today + timedelta(days=i) for i in range(days)]
    return htmx_render(
        request,
        "planning/capacity.html",
        "planning/partials/capacity_grid.html",
        {"grid": dict(grid), "dates": dates, "form": PlanCheckForm(), "days": days},
    )


@require_POST
@role_required(Role.PLANNER, Role.SUPERVISOR)
def capacity_check(request):
    form = PlanCheckForm(request.POST)
    check = None
    error = None
    if form.is_valid():
        try:
            check = capacity_plan_check(**form.cleaned_data)
        except ValidationError as exc:
            error = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return render(
        request,
        "planning/partials/plan_check.html",
        {"form": form, "check": check, "error": error},
        status=200 if form.is_valid() and not error else 400,
    )


@login_required
def gantt(request):
    """Per-machine Gantt of scheduled operations, rendered as server-side SVG."""
    tz = plant_tz()
    today = timezone.localdate()
    try:
        days = max(1, min(int(request.GET.get("days", 7)), 31))
    except ValueError:
        days = 7
    start = datetime.combine(today, time.min, tzinfo=tz)
    end = start + timedelta(days=days)
    machines = list(Equipment.objects.select_related("work_center").order_by("code"))
    latest = ScheduleRun.objects.filter(status=ScheduleRun.Status.DONE).order_by("-pk").first()
    if latest is not None:
        # The latest schedule, part by part (an operation longer than a shift has several).
        bars = [
            (a.operation, a.equipment_id, a.start, a.end)
            for a in ScheduleAssignment.objects.filter(run=latest, start__lt=end, end__gt=start)
            .exclude(operation__status=OrderOperation.Status.CANCELLED)
            .select_related("operation__order")
            .order_by("start")
        ]
    else:
        bars = [
            (op, op.equipment_id, op.planned_start, op.planned_end)
            for op in OrderOperation.objects.filter(
                equipment__isnull=False, planned_start__lt=end, planned_end__gt=start
            )
            .exclude(status=OrderOperation.Status.CANCELLED)
            .select_related("order")
            .order_by("planned_start")
        ]
    width, label_w, row_h = 1100, 90, 28
    span = (end - start).total_seconds()
    per_machine = defaultdict(list)
    for op, machine_id, bar_start, bar_end in bars:
        s = max(bar_start, start)
        e = min(bar_end, end)
        x = label_w + (s - start).total_seconds() / span * (width - label_w)
        w = max((e - s).total_seconds() / span * (width - label_w), 2)
        late = bar_end.astimezone(tz).date() > op.order.due_date
        per_machine[machine_id].append(
            {
                "op": op,
                "x": round(x, 1),
                "w": round(w, 1),
                "late": late,
                "start": bar_start,
                "end": bar_end,
            }
        )
    rows = [
        {"machine": m, "y": 30 + i * row_h, "bars": per_machine.get(m.pk, [])}
        for i, m in enumerate(machines)
    ]
    ticks = [
        {"x": round(label_w + i / days * (width - label_w), 1), "day": today + timedelta(days=i)}
        for i in range(days + 1)
    ]
    return htmx_render(
        request,
        "planning/gantt.html",
        "planning/partials/gantt_svg.html",
        {
            "rows": rows,
            "ticks": ticks,
            "width": width,
            "height": 40 + len(machines) * row_h,
            "row_h": row_h,
            "label_w": label_w,
            "days": days,
            "latest": latest,
        },
    )


# --- MRP -------------------------------------------------------------------------------


@login_required
def mrp(request):
    runs = list(MrpRun.objects.select_related("created_by")[:10])
    run_id = request.GET.get("run")
    run = None
    if whole_number(run_id) is not None:
        run = MrpRun.objects.filter(pk=whole_number(run_id)).first()
    if run is None:
        run = next((r for r in runs if r.status == MrpRun.Status.DONE), None)
    context = {"runs": runs, "run": run}
    if run is not None and run.status == MrpRun.Status.DONE:
        context.update(mrp_run_results(run))
        projections = (run.summary or {}).get("projections", {})
        context["projection_items"] = sorted(
            projections, key=lambda code: (projections[code]["low_level_code"], code)
        )
        item = request.GET.get("item")
        if item in projections:
            context["projection_item"] = item
            context["projection"] = projections[item]
    return render(request, "planning/mrp.html", context)


@require_POST
@role_required(Role.PLANNER)
def mrp_start(request):
    run = mrp_services.mrp_run_start(by=request.user)
    return render(request, "planning/partials/mrp_progress.html", {"run": run})


@login_required
def mrp_progress(request, pk: int):
    run = get_object_or_404(MrpRun, pk=pk)
    response = render(request, "planning/partials/mrp_progress.html", {"run": run})
    if run.status == MrpRun.Status.DONE:
        response["HX-Redirect"] = f"{reverse('planning:mrp')}?run={run.pk}"
    return response


@login_required
def mrp_pegs(request, pk: int):
    planned = get_object_or_404(PlannedOrder.objects.select_related("item"), pk=pk)
    return render(
        request,
        "planning/partials/mrp_pegs.html",
        {"planned": planned, "pegs": planned.pegs.all()},
    )


@login_required
def mrp_demand(request, pk: int, demand_id: str):
    run = get_object_or_404(MrpRun, pk=pk)
    supplies = (run.summary or {}).get("demand_supply", {}).get(demand_id, [])
    return render(
        request, "planning/partials/mrp_demand.html", {"demand_id": demand_id, "supplies": supplies}
    )


@require_POST
@role_required(Role.PLANNER)
def mrp_firm(request, pk: int):
    planned = get_object_or_404(PlannedOrder.objects.select_related("item", "run"), pk=pk)
    created = mrp_services.planned_order_firm(planned_order=planned, by=request.user)
    planned.refresh_from_db()
    return render(
        request, "planning/partials/mrp_planned_row.html", {"p": planned, "created": created}
    )


# --- Finite-capacity schedule ------------------------------------------------------------


@login_required
def schedule(request):
    runs = list(ScheduleRun.objects.select_related("created_by")[:10])
    delayed = delayed_orders()
    shown = list(delayed[:DELAYED_SHOWN])
    more = delayed.count() - len(shown) if len(shown) == DELAYED_SHOWN else 0
    return render(
        request,
        "planning/schedule.html",
        {
            "runs": runs,
            "run": runs[0] if runs else None,
            "delayed": shown,
            "delayed_more": more,
        },
    )


@require_POST
@role_required(Role.PLANNER, Role.SUPERVISOR)
def schedule_start(request):
    try:
        limit = max(1, min(int(request.POST.get("time_limit", 10)), 300))
    except ValueError:
        return render(
            request,
            "planning/partials/schedule_progress.html",
            {"error": "time_limit: give whole seconds between 1 and 300."},
            status=400,
        )
    run = schedule_services.schedule_run_start(by=request.user, time_limit_seconds=limit)
    return render(request, "planning/partials/schedule_progress.html", {"run": run})


@login_required
def schedule_progress(request, pk: int):
    run = get_object_or_404(ScheduleRun, pk=pk)
    elapsed = None
    if run.started_at:
        elapsed = ((run.finished_at or timezone.now()) - run.started_at).total_seconds()
    return render(
        request, "planning/partials/schedule_progress.html", {"run": run, "elapsed": elapsed}
    )


# --- Master production schedule ------------------------------------------------------------


def _mps_weeks(count: int = 8):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return [monday + timedelta(weeks=i) for i in range(count)]


@login_required
def mps(request):
    weeks = _mps_weeks()
    items = list(Item.objects.filter(source=Item.Source.MAKE).order_by("code"))
    entries = {
        (e.item_id, e.period_start): e.quantity
        for e in MpsEntry.objects.filter(period_start__in=weeks, item__in=items)
    }
    booked: dict = defaultdict(Decimal)
    for so in SalesOrder.objects.filter(
        status=SalesOrder.Status.OPEN, item__in=items, due_date__gte=weeks[0]
    ):
        booked[(so.item_id, so.due_date - timedelta(days=so.due_date.weekday()))] += so.quantity
    rows = [
        {
            "item": item,
            "cells": [
                {
                    "week": w,
                    "quantity": entries.get((item.pk, w)),
                    "booked": booked.get((item.pk, w)),
                }
                for w in weeks
            ],
        }
        for item in items
    ]
    return render(request, "planning/mps.html", {"weeks": weeks, "rows": rows})


@require_POST
@role_required(Role.PLANNER)
def mps_cell(request):
    item = get_object_or_404(Item, code=request.POST.get("item", ""))
    error = None
    try:
        week = date.fromisoformat(request.POST.get("week", ""))
        quantity = Decimal(request.POST.get("quantity") or "0")
        mps_entry_set(item=item, period_start=week, quantity=quantity, by=request.user)
    except (ValueError, InvalidOperation):
        error = "Give a number (0 clears the week)."
        week, quantity = None, None
    except ValidationError as exc:
        error = " ".join(" ".join(v) for v in exc.message_dict.values())
    return render(
        request,
        "planning/partials/mps_cell.html",
        {"item": item, "cell": {"week": week, "quantity": quantity}, "error": error},
        status=400 if error else 200,
    )
