"""MRP: the runs, queuing one and following it, its planned orders, pegs and messages."""

from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.views_helpers import policy_required, whole_number

from ..models import MrpRun, PlannedOrder
from ..selectors.mrp import mrp_run_results, mrp_runs_recent
from ..services import mrp as mrp_services


@policy_required("planning.mrp.view")
def mrp(request):
    runs = mrp_runs_recent()
    run_id = request.GET.get("run")
    run = None
    if whole_number(run_id) is not None:
        run = MrpRun.objects.filter(pk=whole_number(run_id)).first()
    if run is None:
        run = next((r for r in runs if r.status == MrpRun.Status.DONE), None)
    context = {"runs": runs, "run": run}
    if run is not None and run.status == MrpRun.Status.DONE:
        context.update(mrp_run_results(run))
        projections = (run.summary or {}).get("projections", {})
        context["projection_items"] = sorted(
            projections, key=lambda code: (projections[code]["low_level_code"], code)
        )
        item = request.GET.get("item")
        if item in projections:
            context["projection_item"] = item
            context["projection"] = projections[item]
    return render(request, "planning/mrp.html", context)


@require_POST
@policy_required("planning.mrp.run")
def mrp_start(request):
    run = mrp_services.mrp_run_start(by=request.user)
    return render(request, "planning/partials/mrp_progress.html", {"run": run})


@policy_required("planning.mrp.view")
def mrp_progress(request, pk: int):
    run = get_object_or_404(MrpRun, pk=pk)
    response = render(request, "planning/partials/mrp_progress.html", {"run": run})
    if run.status == MrpRun.Status.DONE:
        response["HX-Redirect"] = f"{reverse('planning:mrp')}?run={run.pk}"
    return response


@policy_required("planning.mrp.view")
def mrp_pegs(request, pk: int):
    planned = get_object_or_404(PlannedOrder.objects.select_related("item"), pk=pk)
    return render(
        request,
        "planning/partials/mrp_pegs.html",
        {"planned": planned, "pegs": planned.pegs.all()},
    )


@policy_required("planning.mrp.view")
def mrp_demand(request, pk: int, demand_id: str):
    run = get_object_or_404(MrpRun, pk=pk)
    supplies = (run.summary or {}).get("demand_supply", {}).get(demand_id, [])
    return render(
        request, "planning/partials/mrp_demand.html", {"demand_id": demand_id, "supplies": supplies}
    )


@require_POST
@policy_required("planning.mrp.firm")
def mrp_firm(request, pk: int):
    planned = get_object_or_404(PlannedOrder.objects.select_related("item", "run"), pk=pk)
    created = mrp_services.planned_order_firm(planned_order=planned, by=request.user)
    planned.refresh_from_db()
    return render(
        request, "planning/partials/mrp_planned_row.html", {"p": planned, "created": created}
    )
