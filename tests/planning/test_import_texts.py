"""An import's problems in the reader's language: a job keeps each message as a stored text
(core/texts.py: message id and params next to the English message), and the Import page,
the API and the admin show it in the language of whoever reads it."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from planning.models import ImportJob
from planning.services.imports import masterdata_import

from .importing import SAMPLES, plant_create, routing_csv

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ITEM_HEADER = (
    "code,name,source,uom,standard_cost,lead_time_days,lot_policy,lot_size,lot_multiple,"
    "safety_stock,tracking"
)


@pytest.fixture
def items(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    plant_create()
    assert masterdata_import(file=SAMPLES / "items.csv", file_name="items.csv").ok


@pytest.fixture
def admin(items):
    user = get_user_model().objects.create_superuser("importer", "i@example.com", "pw-12345!")
    client = Client()
    client.force_login(user)
    return client


def bad_job(admin, capture) -> ImportJob:
    data = routing_csv(5).replace(b"30,Step 3,CNC,CNC-01|CNC-02", b"30,Step 3,CNC,CNC-09", 1)
    with capture(execute=True):
        admin.post(reverse("planning:imports"), {"file": SimpleUploadedFile("steps.csv", data)})
    return ImportJob.objects.get()


def test_a_jobs_bad_row_reads_in_chinese_on_its_page_and_in_the_api(
    admin, django_capture_on_commit_callbacks
):
    job = bad_job(admin, django_capture_on_commit_callbacks)
    assert job.errors[0]["message"] == "Unknown equipment “CNC-09”."  # stored in English

    url = reverse("planning:import_job_progress", args=[job.pk])
    chinese = admin.get(url, **ZH).content.decode()
    assert "未知的设备“CNC-09”。" in chinese and "Unknown equipment" not in chinese
    assert '<td class="num">4</td><td>eligible_equipment</td>' in chinese
    assert "Unknown equipment “CNC-09”." in admin.get(url, **EN).content.decode()

    api = admin.get(f"/api/v1/import-jobs/{job.pk}/", **ZH)
    assert api.status_code == 200
    assert api.json()["errors"] == [
        {
            "row": 4,
            "column": "eligible_equipment",
            "message": "未知的设备“CNC-09”。",
            "message_id": "Unknown %(noun)s “%(code)s”.",
            "params": {"noun": {"text": "equipment", "params": {}}, "code": "CNC-09"},
        }
    ]
    listed = admin.get("/api/v1/import-jobs/", **EN).json()["results"]
    assert listed[0]["errors"][0]["message"] == "Unknown equipment “CNC-09”."


def test_a_job_written_before_messages_had_ids_shows_its_stored_english(admin):
    job = ImportJob.objects.create(
        file_name="old.csv",
        status=ImportJob.Status.FAILED,
        error_count=1,
        errors=[{"row": 3, "column": "quantity", "message": "-1 must be greater than zero."}],
    )
    page = admin.get(reverse("planning:import_job_progress", args=[job.pk]), **ZH)
    assert "-1 must be greater than zero." in page.content.decode()
    api = admin.get(f"/api/v1/import-jobs/{job.pk}/", **ZH).json()
    assert api["errors"][0]["message"] == "-1 must be greater than zero."
    assert api["errors"][0]["message_id"] == ""


def test_a_file_a_job_cannot_read_is_named_in_chinese(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            reverse("planning:imports"), {"file": SimpleUploadedFile("a.csv", b"x,y\n1,2\n")}
        )
    job = ImportJob.objects.get()
    assert job.errors[0]["row"] == 0
    page = admin.get(reverse("planning:import_job_progress", args=[job.pk]), **ZH).content.decode()
    assert "无法从表头（第 1 行）判断" in page


def test_a_synchronous_import_reports_in_the_callers_language(items):
    data = (
        ITEM_HEADER + "\nA-1,Part A,make,pcs,-80,2,lot_for_lot,0,0,0,none\n"
        "A-5,,buy,pcs,1,2,fixed,0,0,0,none\n"
    ).encode()
    with translation.override("zh-hans"):
        report = masterdata_import(file=data, file_name="items.csv", dry_run=True)
        shown = [(e.row, e.column, e.shown) for e in report.errors]
    assert shown == [
        (2, "standard_cost", "-80 不能为负数。"),
        (3, "name", "此字段不能为空。"),  # Django's own message, by its msgid
        (3, "lot_size", "固定批量策略需要大于零的批量。"),  # the model's clean()
    ]
    # The English message stays for the log, the command line and older readers.
    assert [e.message for e in report.errors] == [
        "-80 must not be negative.",
        "This field cannot be blank.",
        "A fixed lot policy needs a lot size above zero.",
    ]
    assert report.errors[1].message_id == "This field cannot be blank."


def test_the_admins_import_shows_a_bad_row_in_chinese(admin):
    data = (ITEM_HEADER + "\nA-1,Part A,made,pcs,1,2,lot_for_lot,0,0,0,none\n").encode()
    url = reverse("admin:resources_item_import")
    upload = SimpleUploadedFile("items.csv", data)
    page = admin.post(url, {"resource": "0", "format": "0", "import_file": upload}, **ZH)
    assert page.status_code == 200
    assert "“made”不是 make、buy 之一。" in page.content.decode()


def test_an_upload_refused_at_the_door_names_the_file_in_chinese(admin):
    page = admin.post(
        reverse("planning:imports"), {"file": SimpleUploadedFile("plan.txt", b"x")}, **ZH
    ).content.decode()
    assert "plan.txt：" in page and "plan.txt: " not in page
    assert not ImportJob.objects.exists()
