"""Quality report pages (HTMX): defect Pareto, first-pass yield, trend, and the quality
trace of an order. Every report is a page, an HTMX partial and a CSV file (`?format=csv`)
from the same loader in `quality.selectors.reports`; charts are SVG drawn on the server."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from core.exports import csv_response
from core.formatting import csv_text, quantity_format
from core.views_helpers import htmx_render, policy_required
from planning.models import ProductionOrder
from resources.models import Item, WorkCenter
from resources.selectors.calendar import plant_time_zone

from ..engines.report_figures import DAY, ParetoBar, TrendPoint
from ..selectors.reports import (
    OrderQualityReport,
    QualityReports,
    ReportFilter,
    defect_pareto,
    operation_pareto,
    order_quality_report,
    quality_reports,
    report_filter_parse,
    trend_report,
    yield_report,
)

# slug → (title, partial template); each also has a CSV (`?format=csv`)
REPORTS = {
    "defects": (
        gettext_lazy("Defect Pareto by defect code"),
        "quality/partials/report_pareto.html",
    ),
    "operations": (
        gettext_lazy("Defect Pareto by operation"),
        "quality/partials/report_pareto.html",
    ),
    "fpy": (gettext_lazy("First-pass yield by operation"), "quality/partials/report_fpy.html"),
    "lines": (gettext_lazy("First-pass yield by line"), "quality/partials/report_lines.html"),
    "trend": (
        gettext_lazy("Defect rate and first-pass yield over time"),
        "quality/partials/report_trend.html",
    ),
}
CHART_BARS = 12  # the Pareto chart draws the largest bars; the table lists all


# --- SVG geometry (pure) ---------------------------------------------------------------------


def pareto_chart(bars: list[ParetoBar], width: int = 640, height: int = 240) -> dict:
    """Bars for the counts (left axis) and the cumulative-% line (right axis)."""
    left, right, top, bottom = 40, 44, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    shown = bars[:CHART_BARS]
    peak = max((b.count for b in shown), default=0) or 1
    slot = plot_w / max(len(shown), 1)
    items = []
    for i, bar in enumerate(shown):
        h = bar.count / peak * plot_h
        cx = left + slot * (i + 0.5)
        items.append(
            {
                "bar": bar,
                "x": round(left + slot * i + slot * 0.15, 1),
                "w": round(slot * 0.7, 1),
                "y": round(top + plot_h - h, 1),
                "h": round(h, 1),
                "cx": round(cx, 1),
                "cy": round(top + plot_h * (1 - float(bar.cumulative_pct) / 100), 1),
                "tick": bar.key or "—",
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right_x": width - right,
        "top": top,
        "base": top + plot_h,
        "peak": peak,
        "y80": round(top + plot_h * 0.2, 1),
        "items": items,
        "line": " ".join(f"{i['cx']},{i['cy']}" for i in items),
        "more": len(bars) - len(shown),
    }


def line_chart(
    points: list[tuple[str, Decimal | None]],
    *,
    y_max: float,
    width: int = 640,
    height: int = 170,
) -> dict:
    """A line over the buckets; a bucket without data breaks the line (no invented zero)."""
    left, right, top, bottom = 40, 12, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(points)
    step = plot_w / max(n - 1, 1)
    segments, current, dots = [], [], []
    for i, (label, value) in enumerate(points):
        x = round(left + (step * i if n > 1 else plot_w / 2), 1)
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        y = round(top + plot_h * (1 - min(float(value), y_max) / y_max), 1)
        current.append(f"{x},{y}")
        dots.append({"x": x, "y": y, "label": label, "value": value})
    if current:
        segments.append(current)
    every = max(1, n // 8)  # at most about 8 labels on the x axis
    ticks = [
        {"x": round(left + (step * i if n > 1 else plot_w / 2), 1), "label": label}
        for i, (label, _) in enumerate(points)
        if i % every == 0
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right_x": width - right,
        "top": top,
        "mid": round(top + plot_h / 2, 1),
        "base": top + plot_h,
        "y_max": y_max,
        "y_mid": y_max / 2,
        "segments": [" ".join(s) for s in segments],
        "dots": dots,
        "ticks": ticks,
    }


def trend_charts(points: list[TrendPoint]) -> dict:
    fmt = "%d.%m" if not points or points[0].bucket == DAY else "W%V %d.%m"
    labels = [p.start.strftime(fmt) for p in points]
    peak = max(
        (float(p.defect_rate_pct) for p in points if p.defect_rate_pct is not None), default=0
    )
    # Defect rates are small: scale to the next 5 % above the worst bucket, not to 100 %.
    defect_max = max(5.0, -(-peak // 5) * 5)
    return {
        "fpy": line_chart(list(zip(labels, [p.fpy_pct for p in points], strict=True)), y_max=100),
        "defects": line_chart(
            list(zip(labels, [p.defect_rate_pct for p in points], strict=True)), y_max=defect_max
        ),
    }


# --- CSV --------------------------------------------------------------------------------------


def _pct(value: Decimal | None) -> str:
    """A percentage as computed (one decimal); empty where there is nothing to divide."""
    return "" if value is None else str(value)


PARETO_HEADER = ["rank", "key", "label", "count", "share_pct", "cumulative_pct"]


def _pareto_rows(bars):
    for rank, b in enumerate(bars, start=1):
        yield [
            rank,
            csv_text(b.key),
            csv_text(b.label),
            b.count,
            _pct(b.share_pct),
            _pct(b.cumulative_pct),
        ]


FPY_HEADER = [
    "item",
    "sequence",
    "operation",
    "work_center",
    "area",
    "source",
    "units",
    "first_pass",
    "failed",
    "fpy_pct",
]


def _fpy_rows(yields):
    for y in yields:
        op = y.operation
        yield [
            csv_text(op.item),
            op.sequence,
            csv_text(op.name),
            csv_text(op.work_center),
            csv_text(op.area),
            y.source,
            quantity_format(y.units),
            quantity_format(y.first_pass),
            quantity_format(y.failed),
            _pct(y.fpy_pct),
        ]


LINES_HEADER = ["area", "item", "operations", "units", "first_pass", "rty_pct", "simple_pct"]


def _line_rows(lines):
    for line in lines:
        yield [
            csv_text(line.area),
            csv_text(line.item),
            "; ".join(f"{y.operation.sequence}: {_pct(y.fpy_pct)}" for y in line.operations),
            quantity_format(line.units),
            quantity_format(line.first_pass),
            _pct(line.rty_pct),
            _pct(line.simple_pct),
        ]


TREND_HEADER = [
    "bucket",
    "start",
    "end",
    "inspected",
    "failed",
    "defect_rate_pct",
    "units",
    "first_pass",
    "fpy_pct",
]


def _trend_rows(points):
    for p in points:
        yield [
            p.bucket,
            p.start.isoformat(),
            (p.end - timedelta(days=1)).isoformat(),
            p.inspected,
            p.failed,
            _pct(p.defect_rate_pct),
            p.units,
            p.first_pass,
            _pct(p.fpy_pct),
        ]


def _report_csv(slug: str, f: ReportFilter) -> HttpResponse:
    filename = f"quality-{slug}-{f.first_day}-{f.last_day}.csv"
    if slug == "defects":
        return csv_response(filename, PARETO_HEADER, _pareto_rows(defect_pareto(f)))
    if slug == "operations":
        return csv_response(filename, PARETO_HEADER, _pareto_rows(operation_pareto(f)))
    if slug == "fpy":
        return csv_response(filename, FPY_HEADER, _fpy_rows(yield_report(f).operations))
    if slug == "lines":
        return csv_response(filename, LINES_HEADER, _line_rows(yield_report(f).lines))
    return csv_response(filename, TREND_HEADER, _trend_rows(trend_report(f)))


# --- Pages ------------------------------------------------------------------------------------


def _form_context(request, f: ReportFilter | None, errors: dict | None) -> dict:
    query = urlencode(f.params()) if f else ""
    return {
        "filter": f,
        "values": f.params() if f else request.GET,
        "errors": errors or {},
        "query": query,
        "work_centers": WorkCenter.objects.order_by("code").values_list("code", "name"),
        "items": Item.objects.filter(production_orders__isnull=False)
        .distinct()
        .order_by("code")
        .values_list("code", "name"),
    }


def _parse(request):
    try:
        return report_filter_parse(request.GET), None
    except ValidationError as exc:
        return None, {k: " ".join(v) for k, v in exc.message_dict.items()}


def _bad_csv(errors: dict) -> HttpResponse:
    return HttpResponseBadRequest(
        "; ".join(f"{k}: {v}" for k, v in errors.items()), content_type="text/plain; charset=utf-8"
    )


def _section_context(slug: str, f: ReportFilter, data: QualityReports | None = None) -> dict:
    """What one report's partial needs (computed alone, or taken from the whole page's data)."""
    title = REPORTS[slug][0]
    if slug in ("defects", "operations"):
        bars = (data.defects if slug == "defects" else data.operations) if data else None
        if bars is None:
            bars = defect_pareto(f) if slug == "defects" else operation_pareto(f)
        return {"slug": slug, "title": title, "bars": bars, "chart": pareto_chart(bars)}
    if slug in ("fpy", "lines"):
        yields = data.yields if data else yield_report(f)
        return {"slug": slug, "title": title, "yields": yields}
    points = data.trend if data else trend_report(f)
    return {"slug": slug, "title": title, "points": points, "charts": trend_charts(points)}


@policy_required("quality.report.view")
def reports(request):
    """All reports on one page for one filter."""
    f, errors = _parse(request)
    if request.GET.get("format") == "csv":
        links = ", ".join(reverse("quality:report", args=[slug]) for slug in REPORTS)
        return HttpResponseBadRequest(
            f"Each report has its own CSV: {links} (with ?format=csv).",
            content_type="text/plain; charset=utf-8",
        )
    context = _form_context(request, f, errors)
    if f is not None:
        data = quality_reports(f)
        context["sections"] = [
            {**_section_context(slug, f, data), "partial": REPORTS[slug][1]} for slug in REPORTS
        ]
    return htmx_render(
        request,
        "quality/reports.html",
        "quality/partials/report_all.html",
        context,
        status=400 if errors else 200,
    )


@policy_required("quality.report.view")
def report(request, slug: str):
    """One report: its page, its HTMX partial, or its CSV."""
    if slug not in REPORTS:
        raise Http404(f"No report {slug!r}.")
    f, errors = _parse(request)
    if request.GET.get("format") == "csv":
        return _bad_csv(errors) if errors else _report_csv(slug, f)
    context = _form_context(request, f, errors)
    context["report_slug"] = slug
    context["report_title"] = REPORTS[slug][0]
    if f is not None:
        context["sections"] = [{**_section_context(slug, f), "partial": REPORTS[slug][1]}]
    return htmx_render(
        request,
        "quality/reports_single.html",
        "quality/partials/report_all.html",
        context,
        status=400 if errors else 200,
    )


ORDER_HEADER = [
    "order",
    "subject_kind",
    "subject",
    "trace_code",
    "record_id",
    "sequence",
    "operation",
    "work_center",
    "plan",
    "attempt",
    "result",
    "corrects",
    "corrected_by",
    "defect_code",
    "defect",
    "reason",
    "values",
    "inspector",
    "gauge",
    "inspected_at",
    "disposition",
    "disposition_note",
    "decided_by",
    "approved_by",
    "decided_at",
]


def _order_rows(report: OrderQualityReport, tz):
    number = report.order.number
    for s in report.subjects:
        if not s.lines:
            yield [number, s.kind, csv_text(s.label), csv_text(s.trace_code)] + [""] * (
                len(ORDER_HEADER) - 4
            )
        for ln in s.lines:
            yield [
                number,
                s.kind,
                csv_text(s.label),
                csv_text(s.trace_code),
                ln.record_id,
                ln.sequence,
                csv_text(ln.operation),
                csv_text(ln.work_center),
                csv_text(ln.plan),
                ln.attempt_no or "",
                ln.result,
                ln.corrects_id or "",
                ln.corrected_by_id or "",
                csv_text(ln.defect_code),
                csv_text(ln.defect_name),
                csv_text(ln.reason),
                csv_text(ln.values_text),
                csv_text(ln.inspector),
                csv_text(ln.gauge),
                ln.inspected_at.astimezone(tz).isoformat(timespec="seconds"),
                ln.disposition,
                csv_text(ln.disposition_note),
                csv_text(ln.decided_by),
                csv_text(ln.approved_by),
                ln.decided_at.astimezone(tz).isoformat(timespec="seconds") if ln.decided_at else "",
            ]


@policy_required("quality.report.view")
def order_report_find(request):
    number = (request.GET.get("order") or "").strip()
    if ProductionOrder.objects.filter(number=number).exists():
        return redirect("quality:order_report", number=number)
    return render(
        request,
        "quality/reports_order.html",
        {"report": None, "number": number},
        status=404 if number else 400,
    )


@policy_required("quality.report.view")
def order_report(request, number: str):
    """Every unit and lot of an order with its inspections and dispositions; or the CSV."""
    order = ProductionOrder.objects.select_related("item").filter(number=number).first()
    if order is None:
        return render(
            request, "quality/reports_order.html", {"report": None, "number": number}, status=404
        )
    report = order_quality_report(order)
    if request.GET.get("format") == "csv":
        tz = plant_time_zone()
        return csv_response(
            f"quality-order-{order.number}.csv", ORDER_HEADER, _order_rows(report, tz)
        )
    return render(request, "quality/reports_order.html", {"report": report, "number": number})
