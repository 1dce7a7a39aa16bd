"""OEE in the API: per machine (by shift or day) and the work-center and plant roll-ups.

Ratios (availability, performance, quality, OEE) are decimal strings with four places
("0.9111"), minutes with one ("40.0"), as the API writes every quantity; a ratio with nothing
to divide by (no planned time, no run time, no part) is null.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from resources.models import Equipment, WorkCenter
from resources.selectors.calendar import plant_time_zone

from ..engines.oee import LOSS_LABELS, LOSSES, OeeFigures
from ..selectors.oee import BY, DAY, MAX_DAYS, oee_report

RESOURCE = "devices.oee"
RATIO = Decimal("0.0001")
MINUTES = Decimal("0.1")


def _decimal(value: float | None, places: Decimal) -> str | None:
    if value is None:
        return None
    return str(Decimal(repr(value)).quantize(places, rounding=ROUND_HALF_UP))


def figures_data(fig: OeeFigures, settings=None) -> dict:
    """One set of OEE figures as the API writes it."""
    diagnosis = fig.diagnosis(settings)
    return {
        "availability": _decimal(fig.availability, RATIO),
        "performance": _decimal(fig.performance, RATIO),
        "quality": _decimal(fig.quality, RATIO),
        "oee": _decimal(fig.oee, RATIO),
        "shift_minutes": _decimal(fig.shift_minutes, MINUTES),
        "break_minutes": _decimal(fig.break_minutes, MINUTES),
        "maintenance_minutes": _decimal(fig.maintenance_minutes, MINUTES),
        "planned_stop_minutes": _decimal(fig.planned_stop_minutes, MINUTES),
        "planned_busy_minutes": _decimal(fig.planned_busy_minutes, MINUTES),
        "unknown_minutes": _decimal(fig.unknown_minutes, MINUTES),
        "run_minutes": _decimal(fig.run_minutes, MINUTES),
        "total_count": fig.total,
        "good_count": fig.good,
        "unrated_count": fig.unrated,
        "outside_total_count": fig.outside_total,
        "outside_good_count": fig.outside_good,
        "losses": {loss: _decimal(fig.losses.get(loss, 0.0), MINUTES) for loss in LOSSES},
        "diagnosis": None
        if diagnosis is None
        else {
            "loss": diagnosis.loss,
            "label": diagnosis.label,
            "cause": diagnosis.cause,
            "minutes": _decimal(diagnosis.minutes, MINUTES),
            "reasons": [
                {"reason": r.reason, "minutes": _decimal(r.minutes, MINUTES), "stops": r.stops}
                for r in diagnosis.reasons
            ],
        },
    }


def _day(request, name: str, default: date) -> date:
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            {name: gettext("Use a date like 2026-12-09, not %(value)r.") % {"value": raw}}
        ) from None


def period_parse(request) -> tuple[date, date]:
    """`from` and `to` (plant days, inclusive; both default to today)."""
    today = timezone.now().astimezone(plant_time_zone()).date()
    first = _day(request, "from", today)
    last = _day(request, "to", max(first, today) if "from" in request.query_params else today)
    if last < first:
        raise ValidationError({"to": gettext("The period ends before it begins.")})
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationError(
            {"to": gettext("At most %(days)d days at once.") % {"days": MAX_DAYS}}
        )
    return first, last


PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description=gettext_lazy("first plant day (default today)")
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description=gettext_lazy("last plant day, inclusive")
    ),
]


@extend_schema(
    description=gettext_lazy(
        "A machine's OEE over whole plant days, per shift or per day, with the six big losses."
    )
)
class EquipmentOeeView(APIView):
    policy_resource = RESOURCE

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("by", str, enum=list(BY), description=gettext_lazy("default day")),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, code: str):
        by = request.query_params.get("by") or DAY
        if by not in BY:
            raise ValidationError({"by": gettext("Use 'shift' or 'day'.")})
        first, last = period_parse(request)
        if not Equipment.objects.filter(code=code).exists():
            raise NotFound(gettext("No equipment %(code)s.") % {"code": code})
        report = oee_report(first_day=first, last_day=last, by=by, equipment_codes=[code])
        (machine,) = report.machines
        return Response(
            {
                "equipment": code,
                "work_center": machine.equipment.work_center.code,
                "state": machine.state,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "by": by,
                **figures_data(machine.figures, report.settings),
                "rows": [
                    {
                        "day": row.day.isoformat(),
                        **({"shift": row.shift} if by != DAY else {}),
                        **figures_data(row.figures, report.settings),
                    }
                    for row in machine.rows
                ],
            }
        )


@extend_schema(
    description=gettext_lazy(
        "The plant's OEE over whole plant days, per work center and machine "
        "(`work_center` narrows it to one)."
    )
)
class PlantOeeView(APIView):
    policy_resource = RESOURCE

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter(
                "work_center", str, description=gettext_lazy("one work center's code")
            ),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        first, last = period_parse(request)
        wc = (request.query_params.get("work_center") or "").strip()
        if wc and not WorkCenter.objects.filter(code=wc).exists():
            raise ValidationError(
                {"work_center": gettext("No work center %(code)s.") % {"code": wc}}
            )
        report = oee_report(first_day=first, last_day=last, work_center_code=wc or None)
        s = report.settings
        return Response(
            {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "losses": dict(LOSS_LABELS),
                **figures_data(report.plant, s),
                "work_centers": [
                    {
                        "code": g.code,
                        "name": g.name,
                        **figures_data(g.figures, s),
                        "equipment": [
                            {
                                "code": m.equipment.code,
                                "state": m.state,
                                **figures_data(m.figures, s),
                            }
                            for m in g.machines
                        ],
                    }
                    for g in report.work_centers
                ],
                "days": [
                    {"day": d.isoformat(), "oee": _decimal(f.oee, RATIO)}
                    for d, f in report.day_figures()
                ],
            }
        )
