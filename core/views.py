import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import Error as DatabaseDriverError
from django.db import connection, transaction
from django.db.models import Min
from django.http import JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from . import policy
from .audit import (
    AUDIT_RESOURCE,
    audit_entries,
    audit_model_choices,
    audit_readable,
    changes_labelled,
    model_label,
)
from .events import MAX_ATTEMPTS
from .filtersets import AuditEntryFilterSet
from .homes import KpiValue, home_url, kpis_declared
from .models import OutboxEvent
from .preferences import SESSION_LANGUAGE, language_clean, preference_language_set
from .roles import role_label
from .views_helpers import error_text, htmx_render, policy_required, whole_number


def home(request):
    """`/` and the landing after sign-in: a signed-in person goes to their role's home
    (core.homes, declared by the apps); the signed-out, and people whose roles have no home,
    get a short landing page."""
    if url := home_url(request.user):
        return redirect(url)
    roles = []
    if request.user.is_authenticated:
        roles = sorted(request.user.groups.values_list("name", flat=True))
    return render(
        request,
        "core/home.html",
        {"roles": [role_label(r) for r in roles]},
    )


@policy_required("core.kpis.view")
def kpis(request):
    """The plant manager's key figures: one tile per figure the apps declared
    (core.homes.kpi_register), in the reader's language, each linking to its page. A figure
    whose selector fails shows as unavailable instead of taking the page down."""
    today = timezone.localdate()
    tiles = []
    for kpi in kpis_declared():
        try:
            value = kpi.compute(today)
        except Exception:  # one broken figure must not hide the others
            logger.exception("KPI %s failed", kpi.key)
            value = KpiValue(value=None, text="", empty=gettext("Not available right now."))
        tiles.append(
            {
                "key": kpi.key,
                "label": gettext(kpi.label),
                "value": value,
                "url": reverse(kpi.url_name) if kpi.url_name else "",
            }
        )
    return render(request, "core/kpis.html", {"tiles": tiles, "today": today})


logger = logging.getLogger(__name__)

# Domain events waiting longer than this mean the worker or beat is not delivering them.
OUTBOX_STALE_SECONDS = 300

# The check's own limit on PostgreSQL, well under the web's DB_STATEMENT_TIMEOUT_MS and a
# probe's usual timeout: a database too slow to count the outbox in this time is not healthy.
HEALTH_STATEMENT_TIMEOUT_MS = 2000


def healthz(request):
    """For load balancers and monitoring: 200 while the database answers, with the state of
    the domain-event outbox — pending events, the age of the oldest, and events whose
    handlers gave up after their retries (their topic and error are in the admin). Status
    "degraded" when any gave up or the oldest waits more than five minutes (the worker or
    beat is down); 503 when the database does not answer — refused, not answering within
    DB_CONNECT_TIMEOUT, or its queries not done within HEALTH_STATEMENT_TIMEOUT_MS."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # Like SET LOCAL: ends with this transaction, the reused connection keeps
                    # the web's DB_STATEMENT_TIMEOUT_MS.
                    cursor.execute(
                        "SELECT set_config('statement_timeout', %s, true)",
                        [str(HEALTH_STATEMENT_TIMEOUT_MS)],
                    )
                else:
                    cursor.execute("SELECT 1")
            pending = OutboxEvent.objects.filter(dispatched_at__isnull=True)
            waiting = pending.filter(attempts__lt=MAX_ATTEMPTS)
            oldest = waiting.aggregate(at=Min("created_at"))["at"]
            failed = pending.filter(attempts__gte=MAX_ATTEMPTS).count()
            count = waiting.count()
    except DatabaseDriverError:
        # Every error the driver raises (connect timeout, refused, cancelled statement, a
        # connection lost mid-way) is "down", never a 500. The driver's message names hosts
        # and users: it goes to the log, not to whoever asks.
        logger.exception("health check: the database does not answer")
        return JsonResponse({"status": "down", "database": "unavailable"}, status=503)
    age = int((timezone.now() - oldest).total_seconds()) if oldest else 0
    degraded = failed > 0 or age > OUTBOX_STALE_SECONDS
    return JsonResponse(
        {
            "status": "degraded" if degraded else "ok",
            "database": "ok",
            "outbox": {"pending": count, "oldest_pending_seconds": age, "failed": failed},
        }
    )


AUDIT_PAGE_SIZE = 50


def audit_page_check(user) -> None:
    """The audit page's one check: the trail's readers (core.audit.audit_readable)."""
    if not audit_readable(user):
        raise PermissionDenied(
            gettext("Only administrators and the plant manager may read the audit trail.")
        )


@policy_required(f"{AUDIT_RESOURCE}.view")
def audit(request):
    """The audit trail: who changed which record, when and from where, with each field's
    value before and after; filtered by model, record, actor and days, 50 to a page."""
    audit_page_check(request.user)
    filterset = AuditEntryFilterSet(request.GET, queryset=audit_entries())
    entries = filterset.qs if filterset.is_valid() else audit_entries().none()
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(whole_number(request.GET.get("page")) or 1)
    rows = [
        {"entry": e, "model": model_label(e.object_type), "changes": changes_labelled(e)}
        for e in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return htmx_render(
        request,
        "core/audit.html",
        "core/partials/audit_table.html",
        {
            "filter": filterset,
            "page": page,
            "rows": rows,
            "models": audit_model_choices(),
            "query": query.urlencode(),
        },
    )


@require_POST
def language_set(request):
    """The language switcher of the layout: the chosen language for this session and, for a
    signed-in person, kept on their account (core.preferences); "" goes back to the
    browser's. Back to the page it was chosen on. Open before sign-in too (the login page)."""
    try:
        language = language_clean(request.POST.get("language"))
    except ValidationError as error:
        return render(request, "partials/message.html", {"text": error_text(error)}, status=400)
    if request.user.is_authenticated and policy.can(request.user, "core.userpreference.change"):
        preference_language_set(user=request.user, language=language)
    request.session[SESSION_LANGUAGE] = language
    back = request.POST.get("next") or request.headers.get("referer") or ""
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = resolve_url("home")
    return redirect(back)
