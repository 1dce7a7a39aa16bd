"""Reads of master-data import jobs: how far a running job has come, and its problems in the
reader's language."""

from pathlib import Path

from django.conf import settings

from core.texts import text_shown

from ..models import ImportJob


def import_job_progress_path(job: ImportJob) -> Path:
    """The small file beside the job's upload where the worker running it counts the rows it
    has imported (its transaction shows the page nothing until it ends)."""
    return (Path(settings.VAR_DIR) / job.stored_file).parent / "progress"


def import_job_rows_done(job: ImportJob) -> int:
    """Rows imported so far: the worker's progress file while it runs, the job's count after."""
    if job.status != ImportJob.Status.RUNNING or not job.stored_file:
        return job.rows_done
    try:
        return max(job.rows_done, int(import_job_progress_path(job).read_text() or 0))
    except (OSError, ValueError):
        return job.rows_done


def import_error_shown(entry: dict) -> dict:
    """An entry of ImportJob.errors with its message in the reader's language (an entry
    written before messages had ids is shown as stored)."""
    message_id = entry.get("message_id") or ""
    params = entry.get("params")
    shown = text_shown(
        message_id, params if isinstance(params, dict) else {}, entry.get("message", "")
    )
    return {**entry, "message": shown}
