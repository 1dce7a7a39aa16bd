"""Trace lookup and labels (HTMX pages).

/quality/trace/?code=…[&item=…]        the whole history of a unit or lot on one page:
                                        operations, inspections, materials down, where-used up
/quality/labels/<code>/                 one printable label: QR code, the code large, item,
                                        order, date
/quality/orders/<number>/labels/        a print sheet of an order's codes; issue more there
"""

from uuid import uuid4

import segno
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import StateConflict
from core.policy import can
from core.views_helpers import htmx_render, policy_required
from planning.models import ProductionOrder

from ..models import TraceCode
from ..selectors.genealogy import TraceAmbiguous, TraceNotFound, genealogy, where_used
from ..services.trace import (
    MAX_BATCH,
    trace_codes_issue_for_order,
    trace_codes_mark_printed,
    trace_lookup,
)

WHERE_USED_SHOWN = 500  # end items listed on the page; the count covers all of them
SHEET_SIZE = 100  # labels per printed sheet page
PRINTED_LIMIT = 1000  # codes noted as printed in one request


def qr_svg(code: str, scale: int = 4) -> str:
    """The code as an inline SVG QR code (a full QR, never Micro QR: scanners read it)."""
    return mark_safe(segno.make_qr(code, error="m").svg_inline(scale=scale, omitsize=True))  # noqa: S308


@policy_required("quality.trace.view")
@require_GET
def trace(request):
    code = (request.GET.get("code") or "").strip()
    item = (request.GET.get("item") or "").strip()
    context: dict = {
        "code": code,
        "item": item,
        "shown": WHERE_USED_SHOWN,
        "shown_slice": f":{WHERE_USED_SHOWN}",
    }
    status = 200
    if code:
        try:
            target = trace_lookup(code=code, item=item or None, by=request.user)
        except TraceNotFound as exc:
            context["error"] = str(exc)
            status = 404
        except TraceAmbiguous as exc:
            context["error"] = str(exc)
            context["candidates"] = exc.candidates
            status = 400
        else:
            context["target"] = target
            context["genealogy"] = genealogy(unit=target.unit, lot=target.lot)
            if target.lot is not None:
                context["where_used"] = where_used(lot=target.lot)
    return htmx_render(
        request, "quality/trace.html", "quality/partials/trace_result.html", context, status
    )


def _label_context(tc: TraceCode) -> dict:
    return {"tc": tc, "qr": qr_svg(tc.code)}


@policy_required("quality.tracecode.view")
@require_GET
def label(request, code: str):
    tc = TraceCode.objects.select_related("item", "order", "unit", "lot").filter(code=code).first()
    if tc is None:
        return render(request, "quality/label_missing.html", {"code": code}, status=404)
    one = _label_context(tc)
    return render(request, "quality/label.html", {**one, "label": one, "labels": [one]})


def _sheet(request, order, *, error: str = "", status: int = 200):
    """One page of an order's labels (a QR code takes milliseconds to draw: pages of
    SHEET_SIZE), with the form that issues more codes for those who may."""
    codes = TraceCode.objects.filter(order=order).select_related("item", "order").order_by("code")
    total = codes.count()
    pages = max(1, -(-total // SHEET_SIZE))
    try:
        page = min(max(int(request.GET.get("page") or 1), 1), pages)
    except ValueError:
        page = 1
    first = (page - 1) * SHEET_SIZE
    labels = [_label_context(tc) for tc in codes[first : first + SHEET_SIZE]]
    return render(
        request,
        "quality/label_sheet.html",
        {
            "order": order,
            "labels": labels,
            "total": total,
            "page": page,
            "pages": pages,
            "first": first + 1,
            "last": first + len(labels),
            "may_issue": can(request.user, "quality.tracecode.issue"),
            "request_id": uuid4().hex,
            "max_batch": MAX_BATCH,
            "error": error,
        },
        status=status,
    )


@policy_required("quality.tracecode.view")
@require_GET
def label_sheet(request, number: str):
    order = ProductionOrder.objects.select_related("item").filter(number=number).first()
    if order is None:
        raise Http404(f"No order {number}.")
    return _sheet(request, order)


@require_POST
@policy_required("quality.tracecode.issue")
def label_sheet_issue(request, number: str):
    order = ProductionOrder.objects.select_related("item").filter(number=number).first()
    if order is None:
        raise Http404(f"No order {number}.")
    try:
        trace_codes_issue_for_order(
            order=order,
            count=request.POST.get("count") or 0,
            request_id=request.POST.get("request_id") or "",
            by=request.user,
        )
    except ValidationError as exc:
        return _sheet(request, order, error=" ".join(exc.messages), status=400)
    except StateConflict as exc:
        return _sheet(request, order, error=str(exc), status=409)
    return redirect("quality:label_sheet", number=order.number)


@policy_required("quality.tracecode.view")
@require_POST
def labels_printed(request):
    """Called by the print button: the first print of each label is noted (printed_at)."""
    codes = [c for c in request.POST.getlist("code") if c][:PRINTED_LIMIT]
    changed = trace_codes_mark_printed(codes=codes, by=request.user)
    return render(request, "quality/label_printed.html", {"changed": changed, "count": len(codes)})
