"""The finite-capacity schedule: its runs, queuing one and following it, late orders;
and the machine Gantt of what it placed."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.views_helpers import htmx_render, policy_required
from resources.selectors.calendar import plant_time_zone

from ..models import ScheduleRun
from ..selectors.orders import delayed_orders
from ..selectors.schedule import (
    gantt_bars,
    gantt_machines,
    schedule_run_latest_done,
    schedule_runs_recent,
)
from ..services import schedule as schedule_services

DELAYED_SHOWN = 50  # on the schedule page; the rest are counted


@policy_required("planning.schedule.view")
def gantt(request):
    """Per-machine Gantt of scheduled operations, rendered as server-side SVG."""
    tz = plant_time_zone()
    today = timezone.localdate()
    try:
        days = max(1, min(int(request.GET.get("days", 7)), 31))
    except ValueError:
        days = 7
    start = datetime.combine(today, time.min, tzinfo=tz)
    end = start + timedelta(days=days)
    machines = list(gantt_machines())
    latest = schedule_run_latest_done()
    bars = gantt_bars(start=start, end=end, latest=latest)
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
            {"error": "time_limit: give whole seconds between 1 and 300."},
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
        request, "planning/partials/schedule_progress.html", {"run": run, "elapsed": elapsed}
    )
