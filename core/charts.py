"""Bar charts drawn on the server as SVG: the geometry (plain numbers a template places) and
`templates/partials/bar_chart.html`, which draws it. No chart library, no script.

A chart has categories along the x axis (cost versions, periods, machines) and one or more
series; each series has one bar per category, side by side, and a bar may be stacked from
segments (a standard cost's material, labour, machine and overhead). A value that is None
draws no bar (no invented zero). Adding a series to a page is adding a `BarSeries`.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from .formatting import number_text

# Fills for the segments, in order, then again; series are told apart by their place and
# their outline (`BarSeries.outline`), segments by colour.
PALETTE = ("#7aa7d8", "#6fbf86", "#e0a458", "#b39ddb", "#e57373", "#90a4ae")


@dataclass
class BarSeries:
    """One series: a name for the legend and, per category, its segments' values (one value
    for a plain bar, several for a stacked one; None for no bar)."""

    name: str
    values: list[list[Decimal | float] | None]
    outline: str = "#14213d"
    segment_names: list[str] = field(default_factory=list)


def _nice_peak(peak: float) -> float:
    """The axis top: the next 1, 2 or 5 × a power of ten above the highest bar."""
    if peak <= 0:
        return 1.0
    scale = 10 ** len(str(int(peak))) / 10
    for step in (1, 2, 5, 10):
        if peak <= step * scale:
            return step * scale
    return 10 * scale  # pragma: no cover - the loop always returns


def bar_chart(
    categories: list[str],
    series: list[BarSeries],
    *,
    unit: str = "",
    width: int = 640,
    height: int = 240,
) -> dict:
    """The chart's geometry: axes, a bar per category and series (stacked from its
    segments), the totals written above the bars, the ticks and the legend."""
    left, right, top, bottom = 52, 12, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [
        float(sum(bar)) for s in series for bar in s.values if bar is not None and len(bar) > 0
    ]
    peak = _nice_peak(max(totals, default=0.0))
    slot = plot_w / max(len(categories), 1)
    group_w = slot * 0.8
    bar_w = group_w / max(len(series), 1)
    bars = []
    for c, label in enumerate(categories):
        for s_no, s in enumerate(series):
            values = s.values[c] if c < len(s.values) else None
            if not values:
                continue
            x = left + slot * c + (slot - group_w) / 2 + bar_w * s_no
            y = top + plot_h
            segments = []
            for v_no, value in enumerate(values):
                h = plot_h * float(value) / peak
                y -= h
                name = s.segment_names[v_no] if v_no < len(s.segment_names) else s.name
                segments.append(
                    {
                        "y": round(y, 1),
                        "h": round(h, 1),
                        "fill": PALETTE[v_no % len(PALETTE)],
                        "title": f"{label} · {s.name} · {name}: {number_text(float(value), 4)}",
                    }
                )
            total = float(sum(values))
            bars.append(
                {
                    "x": round(x + bar_w * 0.08, 1),
                    "w": round(bar_w * 0.84, 1),
                    "cx": round(x + bar_w / 2, 1),
                    "top": round(y, 1),
                    "outline": s.outline,
                    "series": s.name,
                    "category": label,
                    "total": number_text(total, 2),
                    "segments": segments,
                }
            )
    legend_names = []
    for s in series:
        legend_names.extend(s.segment_names if len(s.segment_names) > 1 else [])
    legend = [
        {"name": name, "fill": PALETTE[i % len(PALETTE)]}
        for i, name in enumerate(dict.fromkeys(legend_names))
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right_x": width - right,
        "top": top,
        "base": top + plot_h,
        "mid": round(top + plot_h / 2, 1),
        "peak": number_text(peak, 2),
        "half": number_text(peak / 2, 2),
        "unit": unit,
        "bars": bars,
        "ticks": [
            {"x": round(left + slot * (c + 0.5), 1), "label": label}
            for c, label in enumerate(categories)
        ],
        "series": [{"name": s.name, "outline": s.outline} for s in series],
        "legend": legend,
    }
