"""Order board pages (HTMX): live plan vs actual, drill-down per order, labour export.

The board and the drill-down compute progress at request time from the current order and
operation quantities (`progress_compute`), not from the hourly snapshot, so a production event
shows on the next refresh (every 5 s).
"""

import csv
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html import escape

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.formatting import csv_text, quantity_format
from core.gc_pause import gc_paused
from core.views_helpers import htmx_render, policy_required
from planning.models import ProductionOrder
from planning.selectors.risk import delivery_risks
from resources.selectors.calendar import plant_time_zone

from ..selectors.board import FLAGS, SORTS, board_select
from ..selectors.progress import (
    ACTIVE,
    LiveOrder,
    labour_bookings,
    order_timeline,
    progress_details,
    progress_live,
    work_center_choices,
)
from .alerts import alert_rows

BOARD_LIMIT = 100  # rows shown; the counts above the table cover every order in view
LABOUR_MAX_DAYS = 366


def _board_filters(request) -> dict:
    status = request.GET.get("status") or ""
    sort = request.GET.get("sort") or "due"
    flag = request.GET.get("flag") or ""
    return {
        "work_center": (request.GET.get("work_center") or "").strip(),
        "status": status if status in ACTIVE else "",
        "sort": sort if sort in SORTS else "due",
        "flag": flag if flag in FLAGS else "",
    }


BOARD_ALERTS = 10  # open exceptions in the board's panel; the exceptions page lists them all


@policy_required("execution.board.view")
def board_alerts(request):
    """The board's open-exceptions panel (the supervisor's home: the board with what is
    open), refreshed on its own timer."""
    return render(request, "execution/partials/board_alerts.html", _board_alerts_context())


def _board_alerts_context() -> dict:
    rows = alert_rows({"show": "open"}, limit=BOARD_ALERTS + 1)
    return {"alert_rows": rows[:BOARD_ALERTS], "alerts_more": len(rows) > BOARD_ALERTS}


@policy_required("execution.board.view")
def board(request):
    with gc_paused():  # many small objects, no cycles: see gc_paused
        return _board(request)


def _board(request):
    filters = _board_filters(request)
    now = timezone.now()
    orders, counts = board_select(now=now, **filters)
    # Names, operators and reasons only for the rows shown.
    shown = progress_details(orders[:BOARD_LIMIT], now=now)
    context = {
        "rows_html": board_rows_html(shown),
        "shown": min(len(orders), BOARD_LIMIT),
        "matching": len(orders),
        "counts": counts,
        "filters": filters,
        "now": now,
    }
    if not request.htmx:
        context.update(_board_alerts_context())
        context["work_centers"] = work_center_choices()
        context["statuses"] = [(s, ProductionOrder.Status(s).label) for s in ACTIVE]
    return htmx_render(
        request, "execution/board.html", "execution/partials/board_table.html", context
    )


REASONS_SHOWN = 4  # per row; the drill-down lists them all


def board_rows_html(orders: list[LiveOrder]) -> str:
    """The board's table rows. Built here rather than in the template: the template engine
    spends about 10 µs on each variable and tag, some 40 per row, which was a quarter of a
    refresh of a hundred rows (measured: bench/README.md). Every value is escaped."""
    board_url = reverse("execution:board")
    schedule_url = escape(reverse("planning:schedule"))
    alerts_url = escape(reverse("execution:alerts"))
    late_text, blocked_text = _("Late +%(hours)s h"), _("Blocked by an exception")
    not_started = escape(_("not started"))
    lagging_text = escape(_("Lagging"))
    delay_text, predicted_text = _("Reschedule suggested (+%(hours)s h)"), _("Predicted end %(at)s")
    more_text = _("%(count)s more…")
    rows = []
    for o in orders:
        p, t, row = o.progress, o.text, o.row
        flags = []
        # The colour stays the attainment rule; a late delivery or a blocking exception is
        # flagged beside it (the delivery risk: planning/selectors/risk.py).
        risk = o.risk
        if risk is not None and risk.level == "late":
            order_url = escape(reverse("planning:order_detail", args=[p.id]))
            flags.append(
                f'<a class="board-flag board-flag-late" href="{order_url}" '
                f'title="{escape(" ".join(risk.reasons))}">'
                f"{escape(late_text % {'hours': risk.late_hours})}</a>"
            )
        if risk is not None and risk.blocked:
            flags.append(
                f'<a class="board-flag board-flag-blocked" href="{alerts_url}">'
                f"{escape(blocked_text)}</a>"
            )
        if p.lagging:
            flags.append(f'<span class="board-flag board-flag-lag">{lagging_text}</span>')
        if p.delayed:
            predicted = timezone.localtime(p.predicted_end).strftime("%m-%d %H:%M")
            flags.append(
                f'<a class="board-flag board-flag-delay" href="{schedule_url}" '
                f'title="{escape(predicted_text % {"at": predicted})}">'
                f"{escape(delay_text % {'hours': p.delay_hours})}</a>"
            )
        if p.reasons:
            items = [
                f'<li class="board-reason-{escape(r.type)}">{escape(r.text)}</li>'
                for r in p.reasons[:REASONS_SHOWN]
            ]
            if len(p.reasons) > REASONS_SHOWN:
                items.append(
                    f'<li><a href="{board_url}{p.id}/">'
                    f"{escape(more_text % {'count': len(p.reasons) - REASONS_SHOWN})}</a></li>"
                )
            flags.append(f'<ul class="board-reasons">{"".join(items)}</ul>')
        due = row["due_date"].strftime("%m-%d") if row["due_date"] else ""
        # Nothing planned by now is no success yet: the engine counts it on plan (green),
        # the row says so in words instead of "100 %".
        attainment = not_started if p.quantity_planned_to_date <= 0 else f"{t['attainment']} %"
        rows.append(
            f'<tr class="board-row board-row-{p.colour}" id="board-order-{p.id}">'
            f'<td><a href="{board_url}{p.id}/">{escape(p.number)}</a></td>'
            f"<td>{escape(row['item__code'])}</td>"
            f'<td><span class="status status-{escape(row["status"])}">'
            f"{escape(str(o.status_label))}</span></td>"
            f"<td>{due}</td>"
            f'<td class="num board-qty">{t["done"]} / {t["planned"]} / {t["quantity"]}</td>'
            f'<td class="board-attain"><div class="board-bar board-{p.colour}">'
            f'<span style="width: {t["bar"]}%"></span></div> '
            f'<span class="board-pct">{attainment}</span></td>'
            f'<td class="board-ops">{o.operations_html}</td>'
            f'<td class="board-now">{o.current_html}</td>'
            f'<td class="board-flags">{"".join(flags)}</td></tr>'
        )
    return mark_safe("\n".join(rows))


@policy_required("execution.board.view")
def order_drill(request, order_id: int):
    found = progress_live(statuses=None, order_ids=[order_id])
    if not found:
        raise Http404(f"No order {order_id}.")
    found[0].risk = delivery_risks([order_id]).get(order_id)
    context = {
        "o": found[0],
        "events": order_timeline(order_id),
        "now": timezone.now(),
    }
    return htmx_render(
        request, "execution/order_drill.html", "execution/partials/board_drill.html", context
    )


# --- labour export for payroll -----------------------------------------------------------


def _parse_period(request) -> tuple[date, date]:
    """start and end (inclusive) from the query; ValueError with a message for the user."""
    values = {}
    for name in ("start", "end"):
        raw = (request.GET.get(name) or "").strip()
        if not raw:
            raise ValueError(_("%(name)s: give a date as YYYY-MM-DD.") % {"name": name})
        try:
            values[name] = date.fromisoformat(raw)
        except ValueError:
            raise ValueError(
                _("%(name)s: %(value)r is not a date (YYYY-MM-DD).") % {"name": name, "value": raw}
            ) from None
        if len(raw) != 10:  # fromisoformat also takes 20260105 and week dates
            raise ValueError(
                _("%(name)s: %(value)r is not a date (YYYY-MM-DD).") % {"name": name, "value": raw}
            )
    start, end = values["start"], values["end"]
    if end < start:
        raise ValueError(
            _("end (%(end)s) is before start (%(start)s).") % {"end": end, "start": start}
        )
    if (end - start).days + 1 > LABOUR_MAX_DAYS:
        raise ValueError(
            _("The period is at most %(days)s days; split it.") % {"days": LABOUR_MAX_DAYS}
        )
    return start, end


def _yield(good: Decimal, scrap: Decimal) -> str:
    made = good + scrap
    return f"{(100 * good / made):.2f}" if made > 0 else ""


@policy_required("execution.labour.view")
def labour_csv(request):
    """Labour per operator per day (plant time, by when the booking started), or with
    `detail=1` the raw bookings. Minutes are the booked minutes: clock minutes up to the end
    of the shift (or as a supervisor corrected them); `excess_minutes` were clocked past the
    shift's end and are not booked; `original_minutes` is what a corrected booking had."""
    try:
        start, end = _parse_period(request)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    detail = request.GET.get("detail") in ("1", "true", "yes")
    tz = plant_time_zone()
    rows = labour_bookings(
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )
    suffix = "-detail" if detail else ""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="labour-{start}-{end}{suffix}.csv"'
    writer = csv.writer(response)
    if detail:
        writer.writerow(
            [
                "badge",
                "name",
                "date",
                "started_at",
                "ended_at",
                "minutes",
                "order",
                "operation",
                "operation_name",
                "work_center",
                "good",
                "scrap",
                "yield_pct",
                "excess_minutes",
                "original_minutes",
            ]
        )
        for b in rows.iterator():
            started = timezone.localtime(b["started_at"], tz)
            minutes = (b["ended_at"] - b["started_at"]).total_seconds() / 60
            writer.writerow(
                [
                    csv_text(b["operator__badge"]),
                    csv_text(b["operator__name"]),
                    started.date().isoformat(),
                    started.isoformat(timespec="seconds"),
                    timezone.localtime(b["ended_at"], tz).isoformat(timespec="seconds"),
                    f"{minutes:.1f}",
                    csv_text(b["task__order__number"]),
                    b["task__operation__sequence"],
                    csv_text(b["task__operation__name"]),
                    csv_text(b["task__operation__work_center__code"]),
                    quantity_format(b["quantity_good"]),
                    quantity_format(b["quantity_scrap"]),
                    _yield(b["quantity_good"], b["quantity_scrap"]),
                    f"{b['excess_minutes']:.1f}",
                    "" if b["original_minutes"] is None else f"{b['original_minutes']:.1f}",
                ]
            )
        return response
    writer.writerow(
        ["badge", "name", "date", "minutes", "good", "scrap", "yield_pct", "excess_minutes"]
    )
    days: dict[tuple[str, str, date], list] = {}
    for b in rows.iterator():
        key = (
            b["operator__badge"],
            b["operator__name"],
            timezone.localtime(b["started_at"], tz).date(),
        )
        total = days.setdefault(key, [0.0, Decimal(0), Decimal(0), Decimal(0)])
        total[0] += (b["ended_at"] - b["started_at"]).total_seconds() / 60
        total[1] += b["quantity_good"]
        total[2] += b["quantity_scrap"]
        total[3] += b["excess_minutes"]
    for (badge, name, day), (minutes, good, scrap, excess) in sorted(days.items()):
        writer.writerow(
            [
                csv_text(badge),
                csv_text(name),
                day.isoformat(),
                f"{minutes:.1f}",
                quantity_format(good),
                quantity_format(scrap),
                _yield(good, scrap),
                f"{excess:.1f}",
            ]
        )
    return response


@policy_required("execution.labour.view")
def labour(request):
    today = timezone.localdate()
    first = today.replace(day=1)
    return render(request, "execution/labour.html", {"start": first, "end": today})
