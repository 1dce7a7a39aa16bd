"""The planner's home (and the supply-chain director's): the open orders that will miss or may
miss their due date, the load of each work center over the coming week, and, for whoever
answers for buying, the open purchase requisitions."""

from collections import defaultdict
from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone

from core import policy
from core.views_helpers import policy_required

from ..models import PurchaseRequisition
from ..selectors.capacity import capacity_load
from ..selectors.orders import production_orders_list
from ..selectors.risk import orders_with_risk

HOME_DAYS = 7


@policy_required("planning.capacity.view")
def planner_home(request):
    today = timezone.localdate()
    at_risk = orders_with_risk(production_orders_list(), at_risk_only=True, limit=50)
    cells = capacity_load(first_day=today, last_day=today + timedelta(days=HOME_DAYS - 1))
    grid: dict[str, list] = defaultdict(list)
    for cell in cells:
        grid[cell.work_center].append(cell)
    overloaded = sorted({c.work_center for c in cells if c.overload > 0.5})
    requisitions = None
    if policy.can(request.user, "planning.purchaserequisition.view"):
        requisitions = list(
            PurchaseRequisition.objects.filter(status=PurchaseRequisition.Status.OPEN)
            .select_related("item")
            .order_by("-urgent", "need_date", "number")[:20]
        )
    return render(
        request,
        "planning/home.html",
        {
            "at_risk": at_risk,
            "grid": dict(grid),
            "dates": [today + timedelta(days=i) for i in range(HOME_DAYS)],
            "by": "work_center",
            "overloaded": overloaded,
            "requisitions": requisitions,
        },
    )
