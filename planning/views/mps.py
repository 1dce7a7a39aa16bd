"""The master production schedule: made items by week, set cell by cell (HTMX)."""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views_helpers import policy_required
from resources.models import Item

from ..selectors.mps import mps_grid
from ..services.orders import mps_entry_set


def _mps_weeks(count: int = 8):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return [monday + timedelta(weeks=i) for i in range(count)]


@policy_required("planning.mpsentry.view")
def mps(request):
    weeks = _mps_weeks()
    rows = mps_grid(weeks=weeks)
    return render(request, "planning/mps.html", {"weeks": weeks, "rows": rows})


@require_POST
@policy_required("planning.mpsentry.change")
def mps_cell(request):
    item = get_object_or_404(Item, code=request.POST.get("item", ""))
    error = None
    try:
        week = date.fromisoformat(request.POST.get("week", ""))
        quantity = Decimal(request.POST.get("quantity") or "0")
        mps_entry_set(item=item, period_start=week, quantity=quantity, by=request.user)
    except (ValueError, InvalidOperation):
        error = _("Give a number (0 clears the week).")
        week, quantity = None, None
    except ValidationError as exc:
        error = " ".join(" ".join(v) for v in exc.message_dict.values())
    return render(
        request,
        "planning/partials/mps_cell.html",
        {"item": item, "cell": {"week": week, "quantity": quantity}, "error": error},
        status=400 if error else 200,
    )
