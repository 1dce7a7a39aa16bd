"""The downtime page (HTMX): a machine's recent stops without a reason, with a reason picker.

Linked from the top bar (devices/apps.py) for operators and supervisors; the terminal's
operators reach it there. The rules are in devices/services/downtime.py.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import StateConflict
from core.policy import can
from core.views_helpers import policy_required

from ..models import DowntimeReason, StateInterval
from ..selectors.downtime import downtime_machines, unexplained_stops
from ..services.downtime import interval_reason_set


def _rows(request, intervals) -> list:
    for interval in intervals:
        interval.may_reason = can(request.user, "devices.downtime.reason", interval)
    return intervals


@policy_required("devices.downtime.view")
@require_GET
def downtime(request):
    machines = downtime_machines(request.user)
    code = request.GET.get("equipment", "").strip()
    if code:
        machines = machines.filter(code=code)
    context = {
        "machines": list(downtime_machines(request.user)),
        "chosen": code,
        "intervals": _rows(request, list(unexplained_stops(machines))),
        "reasons": list(DowntimeReason.objects.filter(active=True)),
    }
    template = "devices/partials/downtime_table.html" if request.htmx else "devices/downtime.html"
    return render(request, template, context)


@policy_required("devices.downtime.reason")
@require_POST
def downtime_reason(request, pk: int):
    interval = get_object_or_404(
        StateInterval.objects.select_related("equipment__work_center"), pk=pk
    )
    raw = request.POST.get("reason", "")
    reason = DowntimeReason.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    context = {"interval": interval, "reasons": list(DowntimeReason.objects.filter(active=True))}
    try:
        interval = interval_reason_set(
            interval=interval, reason=reason, note=request.POST.get("note", ""), by=request.user
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        context["error"] = " ".join(m for ms in errors.values() for m in ms)
        status = 400
    except PermissionDenied as exc:
        context["error"], status = str(exc), 403
    except StateConflict as exc:
        context["error"], status = str(exc), 409
    else:
        context["interval"], status = interval, 200
    context["interval"].may_reason = status != 403
    return render(request, "devices/partials/downtime_row.html", context, status=status)
