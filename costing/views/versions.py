"""The cost versions overview (HTMX): every version with its rates counted, the current one
marked, its last roll-up with what it could not cost; cost accountants run the roll-up and
make a version current from here (costing.services.rollup / .versions)."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views_helpers import policy_required

from ..models import CostVersion
from ..selectors.sheets import cost_versions_overview
from ..services.rollup import standard_cost_rollup_run
from ..services.versions import cost_version_make_current

TABLE = "costing/partials/versions_table.html"


def _version(code: str) -> CostVersion:
    version = CostVersion.objects.filter(code=code).first()
    if version is None:
        raise Http404(f"No cost version {code}.")
    return version


def _table(request, *, done: str = "", run=None):
    return render(request, TABLE, {"rows": cost_versions_overview(), "done": done, "run": run})


@policy_required("costing.costversion.view")
def versions(request):
    context = {"rows": cost_versions_overview(), "tab": "versions"}
    if getattr(request, "htmx", False):
        return render(request, TABLE, context)
    return render(request, "costing/versions.html", context)


@require_POST
@policy_required("costing.rollup.run")
def version_rollup(request, code: str):
    """Roll up the version's standard costs now; answers the overview's table with the run."""
    run = standard_cost_rollup_run(version=_version(code), by=request.user)
    done = _("Roll-up of %(code)s: %(costed)s items costed, %(incomplete)s incomplete.") % {
        "code": code,
        "costed": run.items_costed,
        "incomplete": run.items_incomplete,
    }
    return _table(request, done=done, run=run)


@require_POST
@policy_required("costing.costversion.make_current")
def version_make_current(request, code: str):
    version = cost_version_make_current(version=_version(code), by=request.user)
    return _table(
        request, done=_("%(code)s is now the current cost version.") % {"code": version.code}
    )
