"""Background import jobs: the Import page, the Celery task (run eagerly here, see
tests/conftest.py), the progress partial and the report; all or nothing, safe to run twice."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core.models import AuditEntry
from core.roles import Role
from planning.models import ImportJob, RoutingStep
from planning.selectors.imports import import_job_progress_path
from planning.services import imports
from planning.services.imports import _Progress, import_job_execute, masterdata_import
from planning.tasks import import_job_task
from resources.models import Item

from .importing import ROUTING_HEADER, SAMPLES, bomb, counts, plant_create, routing_csv


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def items(db, var_dir):
    plant_create()
    report = masterdata_import(file=SAMPLES / "items.csv", file_name="items.csv")
    assert report.ok, report.errors


@pytest.fixture
def admin_user(items):
    return get_user_model().objects.create_superuser("importer", "i@example.com", "pw-12345!")


@pytest.fixture
def admin(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def upload(client, name: str, data: bytes, capture, **fields):
    with capture(execute=True):
        return client.post(
            reverse("planning:imports"), {"file": SimpleUploadedFile(name, data), **fields}
        )


def stored_uploads(var_dir: Path) -> list[Path]:
    return [p for p in (var_dir / "imports").glob("*/*") if p.name.startswith("upload")]


def test_page_runs_the_job_and_shows_done_total_and_report(
    admin, admin_user, var_dir, django_capture_on_commit_callbacks
):
    before = counts()
    response = upload(admin, "steps.csv", routing_csv(40), django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("planning:import_job", args=[job.pk])
    assert (job.status, job.kind, job.rows_total, job.rows_done) == ("done", "routings", 40, 40)
    assert (job.new, job.updated, job.unchanged, job.error_count) == (40, 0, 0, 0)
    assert (job.created_by, job.attempts, job.file_name) == (admin_user, 1, "steps.csv")
    assert counts()["RoutingStep"] == before["RoutingStep"] + 40
    assert AuditEntry.objects.filter(action="masterdata.import.routings").count() == 1
    assert stored_uploads(var_dir) == []  # the upload is removed once the job has finished

    page = admin.get(response.url).content.decode()
    assert '<span class="rows-done">40</span> of <span class="rows-total">40</span>' in page
    assert "Imported: 40 new, 0 updated, 0 unchanged" in page
    partial = admin.get(reverse("planning:import_job_progress", args=[job.pk]), HTTP_HX_REQUEST="1")
    assert b'class="rows-done">40<' in partial.content
    assert b"hx-trigger" not in partial.content  # finished: the page stops polling
    assert b"steps.csv" in admin.get(reverse("planning:imports")).content
    assert b"steps.csv" in admin.get(reverse("admin:planning_importjob_changelist")).content


def test_bad_row_in_a_job_writes_nothing_and_names_row_and_column(
    admin, django_capture_on_commit_callbacks
):
    data = routing_csv(5).replace(b"30,Step 3,CNC,CNC-01|CNC-02", b"30,Step 3,CNC,CNC-09", 1)
    before = counts()

    response = upload(admin, "steps.csv", data, django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert (job.status, job.rows_total, job.error_count) == ("failed", 5, 1)
    assert job.errors == [
        {
            "row": 4,
            "column": "eligible_equipment",
            "message": "Unknown equipment “CNC-09”.",
            # a stored text (core/texts.py): shown in the reader's language
            "message_id": "Unknown %(noun)s “%(code)s”.",
            "params": {"noun": {"text": "equipment", "params": {}}, "code": "CNC-09"},
        }
    ]
    assert counts() == before
    assert not AuditEntry.objects.filter(action__startswith="masterdata.import").exclude(
        action="masterdata.import.items"
    )
    page = admin.get(response.url).content.decode()
    assert "Nothing was imported: 1 problem." in page
    assert '<td class="num">4</td><td>eligible_equipment</td>' in page


def test_running_a_job_twice_changes_nothing(admin, django_capture_on_commit_callbacks):
    upload(admin, "steps.csv", routing_csv(8), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    after_first, audits = counts(), AuditEntry.objects.count()

    import_job_task.delay(job.pk)  # a second delivery of the task
    again = import_job_execute(job_id=job.pk)

    assert counts() == after_first
    assert AuditEntry.objects.count() == audits
    assert (again.status, again.attempts, again.new, again.finished_at) == (
        "done",
        1,
        8,
        job.finished_at,
    )


def test_a_job_left_running_by_a_dead_worker_runs_again(items, var_dir, admin_user):
    job = imports.import_job_start(file=routing_csv(3), file_name="steps.csv", by=admin_user)
    # A worker took it and died inside the import's transaction: nothing was written.
    ImportJob.objects.filter(pk=job.pk).update(status="running", attempts=1)

    job = import_job_execute(job_id=job.pk)

    assert (job.status, job.attempts, job.new) == ("done", 2, 3)
    assert RoutingStep.objects.filter(routing__version="7").count() == 3


def test_progress_while_the_job_runs(admin, items, var_dir, admin_user):
    job = imports.import_job_start(file=routing_csv(3), file_name="steps.csv", by=admin_user)
    ImportJob.objects.filter(pk=job.pk).update(status="running", rows_total=200)
    progress = _Progress(import_job_progress_path(job))
    progress(80)  # the worker writes its progress beside the upload
    progress(81)  # … at most every PROGRESS_EVERY_SECONDS

    partial = admin.get(reverse("planning:import_job_progress", args=[job.pk]))

    body = partial.content.decode()
    assert '<span class="rows-done">80</span> of <span class="rows-total">200</span>' in body
    assert "(40%)" in body
    assert 'hx-trigger="every 1s"' in body


def test_the_import_reports_its_progress_row_by_row(items, monkeypatch):
    seen = []
    monkeypatch.setattr(imports, "_Progress", lambda path: seen.append)
    job = imports.import_job_start(file=routing_csv(4), file_name="steps.csv")
    import_job_execute(job_id=job.pk)
    assert seen == [1, 2, 3, 4]


def test_file_refused_on_upload_is_not_stored(admin, settings, var_dir):
    settings.IMPORT_MAX_BYTES = 100
    response = admin.post(
        reverse("planning:imports"), {"file": SimpleUploadedFile("steps.csv", routing_csv(5))}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "steps.csv: The file is " in body
    assert "more than the limit of 100 bytes (IMPORT_MAX_BYTES)" in body
    assert not ImportJob.objects.exists()
    assert stored_uploads(var_dir) == []


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("notes.txt", b"hello", "Unsupported file type “.txt”"),
        ("steps.xlsx", b"item,step_no\n", "not an XLSX workbook"),
        ("steps.csv", b"%PDF-1.7", "a PDF document"),
    ],
)
def test_wrong_file_is_refused_on_upload(admin, var_dir, name, data, message):
    response = admin.post(reverse("planning:imports"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_no_file_is_a_400(admin):
    assert admin.post(reverse("planning:imports"), {}).status_code == 400


def test_bomb_fails_its_job_with_the_row_limit(admin, django_capture_on_commit_callbacks):
    before = counts()
    upload(admin, "bomb.xlsx", bomb("sparse"), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert (job.status, job.rows_total, job.error_count) == ("failed", None, 1)
    assert job.errors[0]["row"] == 0
    assert job.errors[0]["message"].startswith("More than 20,000 data rows (IMPORT_MAX_ROWS)")
    assert counts() == before


def test_check_only_writes_nothing(admin, django_capture_on_commit_callbacks):
    before = counts()
    response = upload(
        admin, "steps.csv", routing_csv(6), django_capture_on_commit_callbacks, dry_run="on"
    )
    job = ImportJob.objects.get()
    assert (job.status, job.dry_run, job.new) == ("done", True, 6)
    assert counts() == before
    assert "Checked, nothing written: would be 6 new" in admin.get(response.url).content.decode()


def test_unexpected_failure_is_recorded_and_writes_nothing(
    admin, monkeypatch, django_capture_on_commit_callbacks
):
    def import_dataset(*args, **kwargs):
        Item.objects.filter(code="EB-500").update(name="Half-written")  # must not stay
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(imports, "_import_dataset", import_dataset)
    before = counts()
    upload(admin, "steps.csv", routing_csv(2), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert (job.status, job.error_count) == ("failed", 1)
    assert job.errors[0]["message"].startswith("The import stopped: RuntimeError: disk on fire")
    assert counts() == before
    assert Item.objects.get(code="EB-500").name == "Engine block"


def test_only_administrators_import(items, var_dir):
    operator = get_user_model().objects.create_user("op", password="pw-12345!")
    operator.groups.add(Group.objects.get_or_create(name=Role.OPERATOR)[0])
    client = Client()
    assert client.get(reverse("planning:imports")).status_code == 302  # to the login page
    client.force_login(operator)
    assert client.get(reverse("planning:imports")).status_code == 403
    response = client.post(
        reverse("planning:imports"), {"file": SimpleUploadedFile("s.csv", routing_csv(1))}
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_header_only_routing_file_is_done_with_no_rows(admin, django_capture_on_commit_callbacks):
    upload(admin, "steps.csv", (ROUTING_HEADER + "\n").encode(), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert (job.status, job.rows_total, job.new) == ("done", 0, 0)
