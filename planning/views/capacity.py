"""Capacity: load per work center and day, and the check of a plan against it."""

from collections import defaultdict
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from core.views_helpers import htmx_render, policy_required

from ..forms import PlanCheckForm
from ..selectors.capacity import capacity_load, capacity_load_machines, capacity_plan_check


@policy_required("planning.capacity.view")
def capacity(request):
    today = timezone.localdate()
    try:
        days = max(1, min(int(request.GET.get("days", 14)), 62))
    except ValueError:
        days = 14
    by = "machine" if request.GET.get("by") == "machine" else "work_center"
    select = capacity_load_machines if by == "machine" else capacity_load
    cells = select(first_day=today, last_day=today + timedelta(days=days - 1))
    grid: dict[str, list] = defaultdict(list)
    for cell in cells:
        grid[cell.work_center].append(cell)
    dates = [today + timedelta(days=i) for i in range(days)]
    return htmx_render(
        request,
        "planning/capacity.html",
        "planning/partials/capacity_grid.html",
        {"grid": dict(grid), "dates": dates, "form": PlanCheckForm(), "days": days, "by": by},
    )


@require_POST
@policy_required("planning.capacity.check")
def capacity_check(request):
    form = PlanCheckForm(request.POST)
    check = None
    error = None
    if form.is_valid():
        try:
            check = capacity_plan_check(**form.cleaned_data)
        except ValidationError as exc:
            error = pgettext("between the clauses of a sentence", "; ").join(
                pgettext("an error's field or row, then its message", "%(label)s: %(message)s")
                % {"label": k, "message": " ".join(v)}
                for k, v in exc.message_dict.items()
            )
    return render(
        request,
        "planning/partials/plan_check.html",
        {"form": form, "check": check, "error": error},
        status=200 if form.is_valid() and not error else 400,
    )
