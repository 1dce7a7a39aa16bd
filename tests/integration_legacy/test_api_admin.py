"""Legacy sources, runs and rejected rows through /api/v1/integration/ and the admin; who
may see and do what."""

import sqlite3

import pytest
from django.test import Client

from integration.models import LegacySource, LegacySyncRun
from integration.services.legacy_sync import legacy_source_create, legacy_source_run
from planning.models import ProductionOrder
from tests.factories import UserFactory

from .conftest import INTEG, OPERATOR, PM

pytestmark = pytest.mark.django_db

SOURCES = "/api/v1/integration/legacy-sources/"
RUNS = "/api/v1/integration/legacy-runs/"
REJECTED = "/api/v1/integration/legacy-rejected-rows/"


def mes_db(tmp_path) -> str:
    db = tmp_path / "mes.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE wo (id INTEGER PRIMARY KEY, external_ref, item, quantity, due_date)"
        )
        conn.executemany(
            "INSERT INTO wo (external_ref, item, quantity, due_date) VALUES (?, ?, ?, ?)",
            [("W1", "EB-500", 5, "2026-12-20"), ("W2", "EB-500", 5, "someday")],
        )
    return f"sqlite:///{db}"


def body(url: str, **extra) -> dict:
    return {
        "name": "mes",
        "kind": "database",
        "target": "production_orders",
        "url": url,
        "query": "SELECT * FROM wo",
        "watermark_column": "id",
        **extra,
    }


def test_integrator_keeps_a_source_runs_it_and_reads_the_runs(
    api, plant, tmp_path, django_capture_on_commit_callbacks
):
    client = api(INTEG)
    created = client.post(SOURCES, body(mes_db(tmp_path)), format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["interval_minutes"] == 30
    assert created.json()["watermark"] == "" and created.json()["last_run_at"] is None

    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post(f"{SOURCES}{pk}/run/")
    assert queued.status_code == 202, queued.content
    assert ProductionOrder.objects.filter(external_ref="W1").exists()

    runs = client.get(RUNS, {"source": pk}).json()["results"]
    assert [(r["trigger"], r["status"], r["rows_accepted"], r["rows_rejected"]) for r in runs] == [
        ("api", "done", 1, 1)
    ]
    rows = client.get(REJECTED, {"source": pk}).json()["results"]
    assert [(r["row"], r["field"], r["source_name"]) for r in rows] == [
        ("watermark 2", "due_date", "mes")
    ]
    assert "someday" in rows[0]["reason"] and rows[0]["data"]["external_ref"] == "W2"
    assert client.get(REJECTED, {"run": runs[0]["id"]}).json()["count"] == 1
    assert client.get(f"{SOURCES}{pk}/").json()["watermark"] == "2"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"mapping": {"QTY": "qty"}}, "mapping"),
        ({"query": "DELETE FROM wo"}, "query"),
        ({"query": "SELECT 1; DROP TABLE wo"}, "query"),
        ({"watermark_column": "id; --"}, "watermark_column"),
        ({"url": "nosuchdb://x/y"}, "url"),
        ({"kind": "csv_folder", "folder": "../../etc"}, "folder"),
        ({"kind": "csv_folder", "folder": "drop", "pattern": "../*.csv"}, "pattern"),
        ({"kind": "csv_folder", "folder": "drop", "encoding": "klingon"}, "encoding"),
        ({"interval_minutes": 0}, "interval_minutes"),
        ({"target": "invoices"}, "target"),
    ],
)
def test_a_bad_source_is_400_naming_the_field(api, tmp_path, extra, field):
    response = api(INTEG).post(SOURCES, {**body(mes_db(tmp_path)), **extra}, format="json")
    assert response.status_code == 400, response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not LegacySource.objects.exists()


def test_the_password_is_shown_masked_and_kept_when_sent_back(api, db):
    client = api(INTEG)
    url = "postgresql://erp:Sup3rSecret@127.0.0.1:5432/erp"
    created = client.post(SOURCES, body(url), format="json").json()
    assert "Sup3rSecret" not in created["url"] and "***" in created["url"]
    changed = client.put(
        f"{SOURCES}{created['id']}/", body(created["url"], batch_size=100), format="json"
    )
    assert changed.status_code == 200, changed.content
    source = LegacySource.objects.get()
    assert source.url.endswith("erp:Sup3rSecret@127.0.0.1:5432/erp") and source.batch_size == 100


def test_who_may_do_what(api, plant, tmp_path):
    source = legacy_source_create(**body(mes_db(tmp_path)))
    legacy_source_run(source=source, trigger=LegacySyncRun.Trigger.COMMAND)
    operator = api(OPERATOR)
    for url in (SOURCES, RUNS, REJECTED, f"{SOURCES}{source.pk}/"):
        assert operator.get(url).status_code == 403, url
    assert (
        operator.post(SOURCES, body("sqlite:///x.db", name="x"), format="json").status_code == 403
    )
    assert operator.post(f"{SOURCES}{source.pk}/run/").status_code == 403

    manager = api(PM)
    assert manager.get(RUNS).json()["count"] == 1
    assert manager.get(REJECTED).json()["count"] == 1
    assert manager.post(f"{SOURCES}{source.pk}/run/").status_code == 403
    assert manager.delete(f"{SOURCES}{source.pk}/").status_code == 403
    assert api(INTEG).delete(f"{SOURCES}{source.pk}/").status_code == 204


def login(*roles) -> Client:
    client = Client()
    client.force_login(UserFactory(roles=list(roles)))
    return client


def test_admin_lists_runs_with_their_rejected_rows(plant, tmp_path):
    source = legacy_source_create(**body(mes_db(tmp_path)))
    run = legacy_source_run(source=source, trigger=LegacySyncRun.Trigger.COMMAND)
    client = login(INTEG)
    runs = client.get("/admin/integration/legacysyncrun/")
    assert runs.status_code == 200 and "mes" in runs.content.decode()
    page = client.get(f"/admin/integration/legacysyncrun/{run.pk}/change/")
    assert page.status_code == 200
    assert "someday" in page.content.decode()
    rows = client.get("/admin/integration/legacyrejectedrow/")
    assert rows.status_code == 200 and "watermark 2" in rows.content.decode()
    sources = client.get("/admin/integration/legacysource/")
    assert "Run the selected sources now" in sources.content.decode()
    # A plant manager keeps no master data: no admin door (the API shows the runs).
    assert login(PM).get("/admin/integration/legacysyncrun/").status_code == 302


def test_admin_form_names_the_bad_field_and_runs_a_source(
    plant, tmp_path, django_capture_on_commit_callbacks
):
    client = login(INTEG)
    form = {
        **body(mes_db(tmp_path)),
        "active": "on",
        "interval_minutes": 30,
        "mapping": '{"X": "nothing"}',
        "batch_size": 500,
        "pattern": "*.csv",
        "delimiter": ",",
        "encoding": "utf-8-sig",
        "settle_seconds": 60,
    }
    refused = client.post("/admin/integration/legacysource/add/", form)
    assert refused.status_code == 200 and "our fields are" in refused.content.decode()
    assert not LegacySource.objects.exists()

    saved = client.post("/admin/integration/legacysource/add/", {**form, "mapping": "{}"})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    source = LegacySource.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/admin/integration/legacysource/",
            {"action": "run_now", "_selected_action": [source.pk]},
            follow=True,
        )
    assert "1 source queued" in answer.content.decode()
    assert LegacySyncRun.objects.get().trigger == "admin"
    assert ProductionOrder.objects.filter(external_ref="W1").exists()


def test_operator_has_no_admin_for_legacy_sync():
    client = login(OPERATOR)
    for model in ("legacysource", "legacysyncrun", "legacyrejectedrow"):
        assert client.get(f"/admin/integration/{model}/").status_code in (302, 403)


@pytest.mark.parametrize("param", ["source", "run"])
def test_an_impossible_filter_value_is_400_not_500(api, param):
    response = api(INTEG).get(REJECTED, {param: "9" * 30})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [param]


def test_lists_cost_the_same_queries_however_many_runs(api, plant, tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    source = legacy_source_create(**body(mes_db(tmp_path)))
    client = api(INTEG)

    def cost(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    legacy_source_run(source=source, trigger=LegacySyncRun.Trigger.COMMAND)
    cost(RUNS)  # the first request also reads the caller's roles once
    one = (cost(RUNS), cost(REJECTED))
    for n in range(3):
        with sqlite3.connect(tmp_path / "mes.sqlite") as conn:
            conn.execute(
                "INSERT INTO wo (external_ref, item, quantity, due_date) VALUES (?, 'X', 1, '')",
                (f"B{n}",),
            )
        legacy_source_run(source=source, trigger=LegacySyncRun.Trigger.COMMAND)
    assert LegacySyncRun.objects.count() == 4
    assert (cost(RUNS), cost(REJECTED)) == one
