"""The finite-capacity schedule: its runs, queuing one and following it, late orders;
and the machine Gantt of what it placed."""

import contextlib
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.shortcuts import get_object_or_404, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import StateConflict
from core.policy import can
from core.views_helpers import htmx_render, policy_required
from resources.models import Equipment
from resources.selectors.calendar import plant_time_zone

from ..models import OrderOperation, ScheduleRun
from ..selectors.orders import delayed_orders
from ..selectors.schedule import (
    gantt_bars,
    gantt_machines,
    schedule_run_latest_done,
    schedule_run_words,
    schedule_runs_recent,
)
from ..services import schedule as schedule_services
from ..services.schedule_moves import MOVABLE_OPERATIONS, MOVABLE_ORDERS, operation_move

DELAYED_SHOWN = 50  # on the schedule page; the rest are counted


# Zoom levels of the Gantt: days shown.
GANTT_VIEWS = {"day": 1, "week": 7, "two-weeks": 14, "month": 31}
GANTT_VIEW_LABELS = {
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "two-weeks": gettext_lazy("2 weeks"),
    "month": gettext_lazy("Month"),
}
# Colour per order (by its id, so an order keeps its colour across zooms and days); late is
# marked apart from the colour (red outline and "!").
GANTT_PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
    "#9c755f", "#bab0ac", "#2f6f8f", "#d37295", "#8cd17d", "#a0cbe8",
)  # fmt: skip
LABEL_CHAR_PX = 6.2  # the bar label's 10 px font, per character
ROW_H, LABEL_W, WIDTH = 30, 96, 1100


def _gantt_window(request) -> tuple[str, int, date]:
    params = request.POST if request.method == "POST" else request.GET
    view = params.get("view", "")
    if view not in GANTT_VIEWS:
        try:
            days = max(1, min(int(params.get("days", 7)), 31))
        except ValueError:
            days = 7
        view = next((k for k, v in GANTT_VIEWS.items() if v >= days), "month")
    first = timezone.localdate()
    with contextlib.suppress(ValueError):  # an unreadable day: today
        first = date.fromisoformat(params["from"]) if params.get("from") else first
    return view, GANTT_VIEWS[view], first


def _bar_label(op, width: float, *, late: bool) -> str:
    """The longest label that fits the bar: order/step, its number's tail/step, the step.

    A late bar's label starts with "! ", and the label fits with it."""
    prefix = "! " if late else ""
    for text in (
        f"{op.order.number}/{op.sequence}",
        f"{op.order.number.rsplit('-', 1)[-1]}/{op.sequence}",
        f"{op.sequence}",
    ):
        if len(prefix + text) * LABEL_CHAR_PX + 6 <= width:
            return prefix + text
    return ""


def gantt_context(request, *, message: str = "", error: str = "") -> dict:
    tz = plant_time_zone()
    view, days, first = _gantt_window(request)
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = start + timedelta(days=days)
    machines = list(gantt_machines())
    latest = schedule_run_latest_done()
    bars = gantt_bars(start=start, end=end, latest=latest)
    span = (end - start).total_seconds()
    plot = WIDTH - LABEL_W
    per_machine = defaultdict(list)
    legend: dict[int, dict] = {}
    for op, machine_id, bar_start, bar_end in bars:
        s = max(bar_start, start)
        e = min(bar_end, end)
        x = LABEL_W + (s - start).total_seconds() / span * plot
        w = max((e - s).total_seconds() / span * plot, 2)
        late = bar_end.astimezone(tz).date() > op.order.due_date
        colour = GANTT_PALETTE[op.order_id % len(GANTT_PALETTE)]
        entry = legend.setdefault(op.order_id, {"order": op.order, "colour": colour, "late": False})
        entry["late"] = entry["late"] or late
        per_machine[machine_id].append(
            {
                "op": op,
                "x": round(x, 1),
                "w": round(w, 1),
                "late": late,
                "colour": colour,
                "label": _bar_label(op, w - 4, late=late),
                "start": bar_start,
                "end": bar_end,
                "movable": op.status in MOVABLE_OPERATIONS and op.order.status in MOVABLE_ORDERS,
            }
        )
    rows = [
        {"machine": m, "y": 30 + i * ROW_H, "bars": per_machine.get(m.pk, [])}
        for i, m in enumerate(machines)
    ]
    # Ticks: hours in the day view, days otherwise (every other day's label at a month).
    if days == 1:
        ticks = [
            {"x": round(LABEL_W + h / 24 * plot, 1), "label": f"{h:02d}:00" if h % 2 == 0 else ""}
            for h in range(25)
        ]
    else:
        step = 1 if days <= 14 else 2
        ticks = [
            {
                "x": round(LABEL_W + i / days * plot, 1),
                "label": formats.date_format(
                    first + timedelta(days=i), "D m-d" if days <= 7 else "m-d"
                )
                if i % step == 0 and i < days
                else "",
            }
            for i in range(days + 1)
        ]
    return {
        "rows": rows,
        "ticks": ticks,
        "width": WIDTH,
        "height": 40 + len(machines) * ROW_H,
        "row_h": ROW_H,
        "label_w": LABEL_W,
        "days": days,
        "view": view,
        "views": [(k, GANTT_VIEW_LABELS[k]) for k in GANTT_VIEWS],
        "first": first,
        "previous": first - timedelta(days=days),
        "next": first + timedelta(days=days),
        "last": first + timedelta(days=days - 1),
        "window_start": start,
        "span_seconds": int(span),
        "latest": latest,
        "legend": sorted(legend.values(), key=lambda e: e["order"].number),
        "may_move": can(request.user, "planning.schedule.move"),
        "message": message,
        "error": error,
    }


@policy_required("planning.schedule.view")
def gantt(request):
    """Per-machine Gantt of scheduled operations, rendered as server-side SVG: zoom (day,
    week, two weeks, month), a colour per order with its legend, late work marked, a click
    opening the order, and — for those who may — drag-to-move (gantt_move)."""
    return htmx_render(
        request, "planning/gantt.html", "planning/partials/gantt_svg.html", gantt_context(request)
    )


@require_POST
@policy_required("planning.schedule.move")
def gantt_move(request):
    """Pin a dragged operation where it was dropped (after the scheduler's checks) and queue a
    rescheduling of the rest; answers the Gantt again with what happened (400 and the reason,
    nothing written, when the move is refused)."""
    operation = OrderOperation.objects.filter(pk=_int(request.POST.get("operation"))).first()
    machine = Equipment.objects.filter(pk=_int(request.POST.get("machine"))).first()
    error = ""
    if operation is None:
        error = _("operation: no such operation.")
    elif machine is None:
        error = _("machine: no such machine.")
    try:
        at = datetime.fromisoformat(request.POST.get("start", ""))
        if timezone.is_naive(at):
            at = at.replace(tzinfo=plant_time_zone())
    except ValueError:
        at = None
        error = error or _("start: give the new start as an ISO 8601 instant.")
    if error:
        return htmx_render(
            request, "planning/gantt.html", "planning/partials/gantt_svg.html",
            gantt_context(request, error=error), status=400,
        )  # fmt: skip
    try:
        moved, run = operation_move(operation=operation, machine=machine, start=at, by=request.user)
    except StateConflict as exc:
        field = getattr(exc, "field", "operation")
        return htmx_render(
            request, "planning/gantt.html", "planning/partials/gantt_svg.html",
            gantt_context(request, error=f"{field}: {exc}"), status=400,
        )  # fmt: skip
    local = timezone.localtime(moved.planned_start, plant_time_zone())
    values = {
        "operation": f"{moved.order.number}/{moved.sequence}",
        "machine": machine.code,
        "start": f"{local:%m-%d %H:%M}",
        "run": run.pk if run else "",
    }
    if run:
        message = (
            _("%(operation)s pinned on %(machine)s from %(start)s; the rest is being "
              "rescheduled around it (run %(run)s).") % values
        )  # fmt: skip
    else:
        message = (
            _("%(operation)s pinned on %(machine)s from %(start)s; the rest is being "
              "rescheduled around it.") % values
        )  # fmt: skip
    return htmx_render(
        request, "planning/gantt.html", "planning/partials/gantt_svg.html",
        gantt_context(request, message=message),
    )  # fmt: skip


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@policy_required("planning.schedule.view")
def schedule(request):
    runs = schedule_runs_recent()
    delayed = delayed_orders()
    shown = list(delayed[:DELAYED_SHOWN])
    more = delayed.count() - len(shown) if len(shown) == DELAYED_SHOWN else 0
    return render(
        request,
        "planning/schedule.html",
        {
            "runs": runs,
            "run": runs[0] if runs else None,
            "words": schedule_run_words(runs[0]) if runs else [],
            "delayed": shown,
            "delayed_more": more,
        },
    )


@require_POST
@policy_required("planning.schedule.run")
def schedule_start(request):
    try:
        limit = max(1, min(int(request.POST.get("time_limit", 10)), 300))
    except ValueError:
        return render(
            request,
            "planning/partials/schedule_progress.html",
            {"error": _("time_limit: give whole seconds between 1 and 300.")},
            status=400,
        )
    run = schedule_services.schedule_run_start(by=request.user, time_limit_seconds=limit)
    return render(request, "planning/partials/schedule_progress.html", {"run": run})


@policy_required("planning.schedule.view")
def schedule_progress(request, pk: int):
    run = get_object_or_404(ScheduleRun, pk=pk)
    elapsed = None
    if run.started_at:
        elapsed = ((run.finished_at or timezone.now()) - run.started_at).total_seconds()
    return render(
        request,
        "planning/partials/schedule_progress.html",
        {"run": run, "elapsed": elapsed, "words": schedule_run_words(run)},
    )
