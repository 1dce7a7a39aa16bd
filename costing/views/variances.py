"""The variance report (HTMX): the variances of the orders with actual cost by order,
product, work center, period, kind and flag; their totals by the chosen grouping; each
flagged one with its likely cause. A variance drills down (HTMX partial) to the floor's
records behind it with operators and machines, their shares adding up to the variance. A
flagged labour efficiency or scrap variance can raise a training need for the plant
manager (costing.services.training; raising it again changes nothing). CSV and XLSX of
the variances."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exports import FORMATS, table_response
from core.lists import list_text
from core.policy import may
from core.views_helpers import error_text, htmx_render, policy_required, whole_number
from planning.models import ProductionOrder
from resources.models import WorkCenter

from ..engines import variance as engine
from ..filtersets import MonthField
from ..models import TrainingNeed
from ..selectors.actual import orders_with_cost
from ..selectors.variance import (
    KIND_ELEMENT,
    NoSuchVariance,
    VarianceFilter,
    variance_drill_down,
    variances_list,
)
from ..services.training import TRAINING_CAUSES, training_need_raise
from ..words import KIND_LABELS, export_header, variance_cause

GROUPINGS = {
    "product": ("product",),
    "work_center": ("work_center",),
    "period": ("period",),
    "order": ("order",),
}
# The kinds a report lists (late postings are their own kind, shown by period).
KIND_CHOICES = [(k, KIND_LABELS[k]) for k in engine.KINDS]


def _filter(data) -> tuple[VarianceFilter, str, dict[str, str]]:
    """The report's filter from the query, the grouping, and {field: message} for bad input."""
    raw = {
        k: (data.get(k) or "").strip()
        for k in ("order", "product", "work_center", "period", "kind", "flagged", "by")
    }
    errors: dict[str, str] = {}
    period = None
    if raw["period"]:
        try:
            period = MonthField().clean(raw["period"])
        except ValidationError as exc:
            errors["period"] = " ".join(exc.messages)
    if raw["kind"] and raw["kind"] not in engine.KINDS:
        errors["kind"] = _("%(kind)s is not a kind: give one of %(kinds)s.") % {
            "kind": repr(raw["kind"]),
            "kinds": list_text(engine.KINDS),
        }
    flagged = {"": None, "yes": True, "no": False}.get(raw["flagged"], "bad")
    if flagged == "bad":
        errors["flagged"] = _("Give yes, no or nothing.")
        flagged = None
    by = raw["by"] or "product"
    if by not in GROUPINGS:
        errors["by"] = _("Group by one of %(groupings)s.") % {"groupings": list_text(GROUPINGS)}
        by = "product"
    f = VarianceFilter(
        order=raw["order"],
        product=raw["product"],
        work_center=raw["work_center"],
        period=period,
        kind=raw["kind"],
        flagged=flagged,
    )
    return f, by, {**raw, "by": by, "errors": errors}


def _can_raise(user) -> bool:
    return may(user, "costing.variance", "raise_training_need")


def variance_rows(variances, user) -> list[dict]:
    """Each variance with what the page offers on it: its drill-down, and a training need
    for a flagged one of a cause training answers (already raised: said so)."""
    raised = set(
        TrainingNeed.objects.filter(order__number__in={v.order for v in variances}).values_list(
            "order__number", "step_no", "cause"
        )
    )
    can_raise = _can_raise(user)
    rows = []
    for v in variances:
        trainable = v.flagged and v.kind in TRAINING_CAUSES and v.step_no is not None
        rows.append(
            {
                "v": v,
                "label": KIND_LABELS[v.kind],
                "drill": v.kind in KIND_ELEMENT,
                "raised": trainable and (v.order, v.step_no, v.kind) in raised,
                "can_raise": trainable and can_raise,
            }
        )
    return rows


HEADER = [
    "order",
    "product",
    "period",
    "kind",
    "element",
    "step_no",
    "work_center",
    "component",
    "standard_quantity",
    "actual_quantity",
    "standard_rate",
    "actual_rate",
    "standard_amount",
    "actual_amount",
    "variance",
    "pct",
    "flagged",
    "cause",
    "operators",
    "machines",
    "lots",
]


def _export_rows(variances):
    for v in variances:
        yield [
            v.order,
            v.product,
            v.period,
            v.kind,
            v.element,
            "" if v.step_no is None else v.step_no,
            v.work_center or "",
            v.component or "",
            v.standard_quantity,
            v.actual_quantity,
            v.standard_rate,
            "" if v.actual_rate is None else v.actual_rate,
            v.standard_amount,
            v.actual_amount,
            v.amount,
            "" if v.pct is None else v.pct,
            "yes" if v.flagged else "no",
            variance_cause(v),
            " ".join(v.operators),
            " ".join(v.equipment),
            " ".join(v.lots),
        ]


@policy_required("costing.variance.view")
def variances(request):
    """The report; the filters' partial for HTMX; `?format=csv|xlsx` the variances."""
    f, by, filters = _filter(request.GET)
    errors = filters.pop("errors")
    fmt = request.GET.get("format")
    if fmt and fmt not in FORMATS:
        errors["format"] = _("Give one of %(formats)s.") % {"formats": list_text(FORMATS)}
    if errors:
        if fmt:
            return HttpResponseBadRequest(error_text(errors), content_type="text/plain")
        found = []
    else:
        found = variances_list(f)
    if fmt:
        return table_response(
            fmt, "cost-variances", export_header(HEADER), _export_rows(found), title="Variances"
        )
    totals = engine.variances_aggregate(found, by=GROUPINGS[by])
    kinds = [k for k in engine.KINDS if any(k in t.by_kind for t in totals)]
    context = {
        "tab": "variances",
        "rows": variance_rows(found, request.user),
        "totals": [
            {"group": t.group[0], "cells": [t.by_kind.get(k) for k in kinds], "t": t}
            for t in totals
        ],
        "total_kinds": [KIND_LABELS[k] for k in kinds],
        "filters": filters,
        "error": error_text(errors) if errors else "",
        "kinds": KIND_CHOICES,
        "groupings": list(GROUPINGS),
        "products": orders_with_cost().values_list("item__code", flat=True).distinct(),
        "work_centers": WorkCenter.objects.order_by("code").values_list("code", flat=True),
        "query": request.GET.urlencode(),
        "grand_total": sum((v.amount for v in found), engine.ZERO),
    }
    return htmx_render(
        request,
        "costing/variances.html",
        "costing/partials/variances_report.html",
        context,
        status=400 if errors else 200,
    )


@policy_required("costing.variance.view")
def variance_drill(request):
    """The records behind one variance (HTMX partial): order, kind, step or component."""
    order = (request.GET.get("order") or "").strip()
    kind = (request.GET.get("kind") or "").strip()
    step_text = (request.GET.get("step") or "").strip()
    step = whole_number(step_text)
    if not order or kind not in KIND_ELEMENT or (step_text and step is None):
        return HttpResponseBadRequest(
            _("Name the order, the kind (one of %(kinds)s) and the operation as a number.")
            % {"kinds": list_text(KIND_ELEMENT)},
            content_type="text/plain",
        )
    try:
        drill = variance_drill_down(
            order=order,
            kind=kind,
            step_no=step,
            component=(request.GET.get("component") or "").strip(),
        )
    except NoSuchVariance as exc:
        raise Http404(str(exc)) from None
    return render(
        request,
        "costing/partials/variance_drill.html",
        {"drill": drill, "v": drill.variance, "label": KIND_LABELS[kind]},
    )


@require_POST
@policy_required("costing.variance.raise_training_need")
def variance_training_need(request):
    """Raise the training need of a flagged variance (HTMX): answers the button's place."""
    order = get_object_or_404(ProductionOrder, number=(request.POST.get("order") or "").strip())
    step = whole_number(request.POST.get("step"))
    cause = (request.POST.get("cause") or "").strip()
    if step is None:
        return render(
            request,
            "costing/partials/training_need.html",
            {"error": _("step: give the operation as a number.")},
            status=400,
        )
    try:
        need, created = training_need_raise(order=order, step_no=step, cause=cause, by=request.user)
    except ValidationError as exc:
        return render(
            request,
            "costing/partials/training_need.html",
            {"error": error_text(exc)},
            status=400,
        )
    return render(
        request, "costing/partials/training_need.html", {"need": need, "created": created}
    )
