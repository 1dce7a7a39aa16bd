"""The OEE board (HTMX, live): a tile per machine, the plant and work-center roll-ups, the
trend over days and the loss Pareto as server-rendered SVG; the drill-down per machine with
its state timeline and downtime reasons.

The tiles show today (the plant day so far) and refresh every 5 s (`oee_tiles`); the trend
and the Pareto cover the last `days` days and are drawn once per page load.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.formatting import number_text
from core.views_helpers import policy_required, whole_number
from resources.models import Equipment, WorkCenter
from resources.selectors.calendar import plant_time_zone

from ..engines.oee import (
    BREAKDOWN,
    IDLE_LOSS,
    NO_REASON,
    OTHER_STOP,
    PRODUCTION_REJECTS,
    SETUP,
    SMALL_STOP,
    SPEED,
    STARTUP_REJECTS,
    OeeFigures,
    oee_combine,
)
from ..models import StateInterval, downtime_reason_label
from ..selectors.oee import OeeReport, equipment_timeline, oee_report

TREND_DAYS = 14
MAX_TREND_DAYS = 62
STATE_COLOURS = {
    "running": "#1a8a3a",
    "idle": "#c98a00",
    "stopped": "#e07b00",
    "fault": "#c62828",
    "maintenance": "#0b6bcb",
    "disconnected": "#6b7280",
}


# The engine's words (plain data, no Django) as a person reads them, in their language.
LOSS_TEXT = {
    BREAKDOWN: gettext_lazy("Breakdowns"),
    SETUP: gettext_lazy("Setup and adjustment"),
    SMALL_STOP: gettext_lazy("Small stops"),
    SPEED: gettext_lazy("Reduced speed"),
    STARTUP_REJECTS: gettext_lazy("Start-up rejects"),
    PRODUCTION_REJECTS: gettext_lazy("Production rejects"),
    IDLE_LOSS: gettext_lazy("Idle (no work)"),
    OTHER_STOP: gettext_lazy("Other stops"),
}
CAUSE_TEXT = {
    BREAKDOWN: gettext_lazy("frequent faults"),
    SETUP: gettext_lazy("long setups and adjustments"),
    SMALL_STOP: gettext_lazy("frequent small stops"),
    SPEED: gettext_lazy("running below the ideal rate"),
    STARTUP_REJECTS: gettext_lazy("rejects after restarts"),
    PRODUCTION_REJECTS: gettext_lazy("rejects in steady production"),
    IDLE_LOSS: gettext_lazy("long idle time"),
    OTHER_STOP: gettext_lazy("stops without a reason"),
}
STATE_TEXT = dict(StateInterval.State.choices)


def state_label(state: str) -> str:
    return str(STATE_TEXT.get(state, state))


def _states_legend() -> list[tuple[str, str]]:
    """(label, colour) of each machine state, for the legends."""
    return [(state_label(state), colour) for state, colour in STATE_COLOURS.items()]


def _diagnosis(fig: OeeFigures, settings) -> dict | None:
    found = fig.diagnosis(settings)
    if found is None:
        return None
    return {
        "label": LOSS_TEXT.get(found.loss, found.label),
        "cause": CAUSE_TEXT.get(found.loss, found.cause),
        "minutes": found.minutes,
        "reasons": [
            {
                "reason": _("no reason given")
                if r.reason == NO_REASON
                else downtime_reason_label(r.reason),
                "minutes": r.minutes,
                "stops": r.stops,
            }
            for r in found.reasons
        ],
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else number_text(value * 100, 1)


def _width(value: float | None) -> float:
    return 0.0 if value is None else round(max(0.0, min(value, 1.0)) * 100, 1)


def figures_view(fig: OeeFigures, settings) -> dict:
    """What a tile or a roll-up shows of a set of figures."""
    oee = fig.oee
    return {
        "oee": _pct(oee),
        "colour": "none" if oee is None else ("green" if oee >= settings.threshold else "red"),
        "bars": [
            ("A", _("Availability"), _pct(fig.availability), _width(fig.availability)),
            ("P", _("Performance"), _pct(fig.performance), _width(fig.performance)),
            ("Q", _("Quality"), _pct(fig.quality), _width(fig.quality)),
        ],
        "diagnosis": _diagnosis(fig, settings),
        "total": fig.total,
        "good": fig.good,
        "outside": fig.outside_total,
        "run": number_text(fig.run_minutes, 0),
        "planned": number_text(fig.planned_busy_minutes, 0),
        "unknown": number_text(fig.unknown_minutes, 0),
        "has_unknown": fig.unknown_minutes >= 0.5,
    }


def trend_chart(points: list[tuple[date, float | None]], threshold: float) -> dict:
    """OEE per day as bars (a day without planned time has no bar), the threshold dashed."""
    width, height, left, right, top, bottom = 640, 180, 36, 10, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(len(points), 1)
    bars, ticks = [], []
    every = max(1, len(points) // 10)
    for i, (day, value) in enumerate(points):
        x = left + slot * i
        if value is not None:
            h = plot_h * max(0.0, min(value, 1.0))
            bars.append(
                {
                    "x": round(x + slot * 0.15, 1),
                    "y": round(top + plot_h - h, 1),
                    "w": round(slot * 0.7, 1),
                    "h": round(h, 1),
                    "label": _("%(day)s: OEE %(pct)s %%")
                    % {"day": f"{day:%m-%d}", "pct": _pct(value)},
                    "below": value < threshold,
                }
            )
        if i % every == 0:
            ticks.append({"x": round(x + slot / 2, 1), "label": f"{day:%m-%d}"})
    return {
        "width": width,
        "height": height,
        "left": left,
        "right_x": width - right,
        "top": top,
        "base": top + plot_h,
        "y_line": round(top + plot_h * (1 - threshold), 1),
        "threshold": _pct(threshold),
        "bars": bars,
        "ticks": ticks,
    }


def pareto_chart(fig: OeeFigures) -> dict:
    """The losses in minutes, largest first, with the cumulative share as a line."""
    width, height, left, right, top, bottom = 640, 200, 44, 40, 10, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    items = fig.pareto()
    peak = max((m for _, m, _ in items), default=0.0)
    slot = plot_w / max(len(items), 1)
    bars = []
    for i, (loss, minutes, cumulative) in enumerate(items):
        h = plot_h * minutes / peak if peak else 0
        cx = left + slot * i + slot / 2
        bars.append(
            {
                "x": round(left + slot * i + slot * 0.15, 1),
                "y": round(top + plot_h - h, 1),
                "w": round(slot * 0.7, 1),
                "h": round(h, 1),
                "cx": round(cx, 1),
                "cy": round(top + plot_h * (1 - cumulative / 100), 1),
                "label": str(LOSS_TEXT[loss]),
                "minutes": number_text(minutes, 0),
                "cumulative": number_text(cumulative, 0),
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right_x": width - right,
        "top": top,
        "base": top + plot_h,
        "peak": number_text(peak, 0),
        "bars": bars,
        "line": " ".join(f"{b['cx']},{b['cy']}" for b in bars),
    }


def timeline_chart(start: datetime, end_of_day: datetime, rows, tz) -> dict:
    """A day of one machine: a coloured band per state interval, hour ticks every two hours."""
    width, height, left, right = 720, 56, 10, 10
    plot_w = width - left - right
    seconds = (end_of_day - start).total_seconds()

    def x(t: datetime) -> float:
        return round(left + plot_w * (t - start).total_seconds() / seconds, 1)

    bands = [
        {
            "x": x(s),
            "w": max(round(x(e) - x(s), 1), 0.5),
            "colour": STATE_COLOURS.get(interval.state, "#999"),
            "state": interval.state,
            "title": f"{state_label(interval.state)} {s.astimezone(tz):%H:%M}–{e.astimezone(tz):%H:%M}"
            + (f" · {interval.reason.label}" if interval.reason_id else ""),
        }
        for interval, s, e in rows
    ]
    ticks = [{"x": x(start + timedelta(hours=h)), "label": f"{h:02d}"} for h in range(0, 25, 2)]
    return {"width": width, "height": height, "left": left, "bands": bands, "ticks": ticks}


def _today() -> date:
    return timezone.now().astimezone(plant_time_zone()).date()


def _work_center(request) -> str:
    code = (request.GET.get("work_center") or "").strip()
    return code if code and WorkCenter.objects.filter(code=code).exists() else ""


def _days(request) -> int:
    days = whole_number(request.GET.get("days")) or TREND_DAYS
    return max(1, min(days, MAX_TREND_DAYS))


def _tiles_context(report: OeeReport, today: date) -> dict:
    tiles = []
    for m in report.machines:
        fig = next((r.figures for r in m.rows if r.day == today), OeeFigures())
        tiles.append(
            {
                "code": m.equipment.code,
                "name": m.equipment.name,
                "work_center": m.equipment.work_center.code,
                "state": state_label(m.state),
                "state_colour": STATE_COLOURS.get(m.state, "#999"),
                **figures_view(fig, report.settings),
            }
        )
    today_rows = {
        g.code: [next((r.figures for r in m.rows if r.day == today), None) for m in g.machines]
        for g in report.work_centers
    }
    groups = [
        {
            "code": g.code,
            "name": g.name,
            **figures_view(oee_combine(f for f in today_rows[g.code] if f), report.settings),
        }
        for g in report.work_centers
    ]
    plant = oee_combine(f for g in report.work_centers for f in today_rows[g.code] if f is not None)
    return {
        "tiles": tiles,
        "groups": groups,
        "plant": figures_view(plant, report.settings),
        "now": report.now,
        "today": today,
        "threshold": _pct(report.settings.threshold),
        "states": _states_legend(),
    }


@policy_required("devices.oee.view")
def oee_board(request):
    today = _today()
    work_center = _work_center(request)
    days = _days(request)
    if getattr(request, "htmx", False):
        report = oee_report(first_day=today, last_day=today, work_center_code=work_center or None)
        return render(request, "devices/partials/oee_tiles.html", _tiles_context(report, today))
    report = oee_report(
        first_day=today - timedelta(days=days - 1),
        last_day=today,
        work_center_code=work_center or None,
    )
    period = report.plant  # the whole trend period, for the Pareto
    context = {
        **_tiles_context(report, today),
        "work_center": work_center,
        "work_centers": list(WorkCenter.objects.order_by("code").values_list("code", "name")),
        "days": days,
        "first_day": report.first_day,
        "trend": trend_chart(
            [(d, f.oee) for d, f in report.day_figures()], report.settings.threshold
        ),
        "pareto": pareto_chart(period),
        "period": figures_view(period, report.settings),
    }
    return render(request, "devices/oee_board.html", context)


@policy_required("devices.oee.view")
def oee_machine(request, code: str):
    equipment = (
        Equipment.objects.select_related("work_center__area__site").filter(code=code).first()
    )
    if equipment is None:
        raise Http404(f"No equipment {code}.")
    tz = plant_time_zone()
    today = _today()
    raw_day = (request.GET.get("day") or "").strip()
    try:
        day = date.fromisoformat(raw_day) if raw_day else today
    except ValueError:
        day = today
    day = min(day, today)
    days = _days(request)
    report = oee_report(
        first_day=min(day, today - timedelta(days=days - 1)),
        last_day=today,
        by="day",
        equipment_codes=[code],
    )
    (machine,) = report.machines
    day_fig = next((r.figures for r in machine.rows if r.day == day), OeeFigures())
    shift_report = oee_report(first_day=day, last_day=day, by="shift", equipment_codes=[code])
    start, end, rows = equipment_timeline(equipment, day, now=report.now)
    downtime = [
        {
            "state": state_label(interval.state),
            "colour": STATE_COLOURS.get(interval.state, "#999"),
            "start": s.astimezone(tz),
            "end": e.astimezone(tz),
            "minutes": number_text((e - s).total_seconds() / 60, 1),
            "small_stop": interval.small_stop,
            "reason": interval.reason.label if interval.reason_id else "",
            "loss": interval.reason.get_loss_display() if interval.reason_id else "",
            "note": interval.reason_note,
            "open": interval.end is None,
        }
        for interval, s, e in rows
        if interval.state != "running"
    ]
    trend_points = [(d, f.oee) for d, f in report.day_figures() if d > today - timedelta(days=days)]
    context = {
        "equipment": equipment,
        "state": state_label(machine.state),
        "state_colour": STATE_COLOURS.get(machine.state, "#999"),
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1) if day < today else None,
        "today": today,
        "days": days,
        "fig": figures_view(day_fig, report.settings),
        "shifts": [
            {"shift": r.shift, **figures_view(r.figures, report.settings)}
            for r in shift_report.machines[0].rows
        ],
        "timeline": timeline_chart(start, start + timedelta(days=1), rows, tz),
        "states": _states_legend(),
        "downtime": downtime,
        "trend": trend_chart(trend_points, report.settings.threshold),
        "pareto": pareto_chart(day_fig),
        "now": report.now,
        "threshold": _pct(report.settings.threshold),
    }
    return render(request, "devices/oee_machine.html", context)
