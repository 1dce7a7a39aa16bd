"""The admin site for execution: exception routing rules are edited there (roles from the
role list only); every other execution record opens read-only, without a 500."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from execution.models import AlertRule, WorkAlert
from execution.services.alerts import alert_raise

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_admin(released) -> Client:
    """A superuser on the demo plant with MO-2026-00001 released (its bearing shortage
    raised an exception, so every execution table has rows)."""
    user = get_user_model().objects.create_superuser("root", "root@plant.local", "pw-12345-x")
    client = Client()
    client.force_login(user)
    return client


def execution_models():
    return [model for model in admin.site._registry if model._meta.app_label == "execution"]


def test_every_execution_record_opens_and_only_rules_are_editable(site_admin):
    models = execution_models()
    assert {m.__name__ for m in models} >= {"AlertRule", "WorkAlert", "Task", "ProductionEvent"}
    for model in models:
        name = f"{model._meta.app_label}/{model._meta.model_name}"
        assert site_admin.get(f"/admin/{name}/").status_code == 200, name
        first = model.objects.order_by("pk").first()
        if first is not None:
            assert site_admin.get(f"/admin/{name}/{first.pk}/change/").status_code == 200, name
        editable = model is AlertRule
        assert (site_admin.get(f"/admin/{name}/add/").status_code == 200) is editable, name


def test_an_exception_cannot_be_changed_or_deleted_in_the_admin(site_admin):
    alert = WorkAlert.objects.first()
    assert alert is not None
    url = f"/admin/execution/workalert/{alert.pk}/"
    assert site_admin.get(f"{url}delete/").status_code == 403
    site_admin.post(f"{url}change/", {"status": "resolved"})
    assert WorkAlert.objects.get(pk=alert.pk).status == alert.status
    page = site_admin.get(f"{url}change/").content.decode()
    step = alert.steps.order_by("pk").first()
    assert alert.number in page and step.text[:40] in page  # the timeline, read-only


def rule_form(rule: AlertRule, **changes) -> dict:
    data = {
        "alert_type": rule.alert_type,
        "severity": rule.severity,
        "handler_role": rule.handler_role,
        "ack_minutes": rule.ack_minutes or "",
        "escalate_to_role": rule.escalate_to_role,
        "auto_requisition": "on" if rule.auto_requisition else "",
        "default_downtime_minutes": rule.default_downtime_minutes,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_a_routing_rule_is_edited_with_roles_from_the_list(site_admin):
    rule = AlertRule.objects.get(alert_type="quality", severity="urgent")
    url = f"/admin/execution/alertrule/{rule.pk}/change/"
    refused = site_admin.post(url, rule_form(rule, handler_role="quality_boss"))
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert AlertRule.objects.get(pk=rule.pk).handler_role == "supervisor"

    saved = site_admin.post(url, rule_form(rule, handler_role="quality_supervisor", ack_minutes=20))
    assert saved.status_code == 302
    rule.refresh_from_db()
    assert (rule.handler_role, rule.ack_minutes) == ("quality_supervisor", 20)
    # The next urgent quality exception goes to the quality supervisor within 20 minutes.
    alert = alert_raise(alert_type="quality", severity="urgent", description="Burrs on bore")
    assert alert.handler_role == "quality_supervisor"
    assert round((alert.ack_deadline - alert.raised_at).total_seconds() / 60) == 20


def test_the_admin_calls_them_exceptions(site_admin):
    """Users say exception (异常), the code WorkAlert: the admin speaks the users' word."""
    index = site_admin.get("/admin/execution/").content.decode()
    assert "Exceptions" in index and "Exception rules" in index
    assert "Work alert" not in index and "Alert rule" not in index
    listing = site_admin.get("/admin/execution/workalert/").content.decode()
    assert "Select exception to view" in listing and "Exception type" in listing
    alert = WorkAlert.objects.first()
    page = site_admin.get(f"/admin/execution/workalert/{alert.pk}/change/").content.decode()
    assert "Exception steps" in page and "Alert step" not in page
    assert "alert" not in WorkAlert._meta.verbose_name_plural
