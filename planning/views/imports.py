"""Master-data import page: upload a file, follow its background job, read its report.

Every upload on this page becomes an ImportJob run by a Celery worker, whatever its size:
the page answers at once and the job's page follows the worker with an HTMX partial.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from core.views_helpers import error_text, policy_required
from resources.resources import import_limit

from ..models import ImportJob
from ..selectors.imports import import_error_shown, import_job_rows_done
from ..services.imports import import_job_start

RECENT_JOBS = 20


def _limits() -> dict:
    return {
        "max_bytes": import_limit("IMPORT_MAX_BYTES"),
        "max_rows": import_limit("IMPORT_MAX_ROWS"),
    }


@policy_required("planning.importjob.view")
def imports(request):
    """The upload form and the latest jobs; a POST queues a job and opens its page."""
    error, status = "", 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error, status = _("Choose a CSV or XLSX file to import."), 400
        else:
            try:
                job = import_job_start(
                    file=upload,
                    file_name=upload.name,
                    by=request.user,
                    dry_run=request.POST.get("dry_run") == "on",
                )
            except ValidationError as e:
                error, status = error_text(e).removeprefix("file: "), 400
            else:
                return redirect("planning:import_job", pk=job.pk)
    jobs = ImportJob.objects.select_related("created_by")[:RECENT_JOBS]
    context = {"jobs": jobs, "error": error} | _limits()
    return render(request, "planning/imports.html", context, status=status)


def _job_context(job: ImportJob) -> dict:
    rows_done = import_job_rows_done(job)
    percent = None
    if job.rows_total:
        percent = min(100, round(100 * rows_done / job.rows_total))
    seconds = None
    if job.finished and job.started_at and job.finished_at:
        seconds = (job.finished_at - job.started_at).total_seconds()
    return {
        "job": job,
        "errors": [import_error_shown(entry) for entry in job.errors],  # the reader's language
        "seconds": seconds,
        "rows_done": rows_done,
        "percent": percent,
        "more_errors": max(0, job.error_count - len(job.errors)),
    }


@policy_required("planning.importjob.view")
def import_job(request, pk: int):
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    return render(request, "planning/import_job.html", _job_context(job))


@policy_required("planning.importjob.view")
def import_job_progress(request, pk: int):
    """The job's progress and, once it has finished, its report (polled while it runs)."""
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    return render(request, "planning/partials/import_job_progress.html", _job_context(job))
