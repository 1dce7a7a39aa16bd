"""People's accounts are deactivated, never deleted, so every entry keeps its actor; role and
activation changes are themselves audited, sign-ins are not."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.models import AuditEntry
from resources.models import Item

pytestmark = pytest.mark.django_db


def person(username: str):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def admin_client(demo_plant) -> Client:
    client = Client()
    client.force_login(person("admin"))
    return client


def test_the_user_admin_refuses_to_delete_and_offers_deactivate(admin_client):
    lisi = person("lisi")
    assert admin_client.get(f"/admin/auth/user/{lisi.pk}/delete/").status_code == 403
    listing = admin_client.get("/admin/auth/user/").content.decode()
    assert "Deactivate the selected accounts" in listing and "delete_selected" not in listing
    admin_client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [lisi.pk], "post": "yes"},
    )
    assert get_user_model().objects.filter(pk=lisi.pk).exists()


def test_deactivating_keeps_the_persons_entries_and_is_audited(admin_client):
    lisi = person("lisi")
    item = Item.objects.get(code="EB-500")
    item.name = "Engine block, rev B"
    item._history_user = lisi
    item.save()

    response = admin_client.post(
        "/admin/auth/user/",
        {"action": "deactivate", "_selected_action": [lisi.pk, person("admin").pk]},
        follow=True,
    )
    assert "1 account deactivated. Your own account was left active." in response.content.decode()
    lisi.refresh_from_db()
    assert not lisi.is_active and person("admin").is_active

    edit = AuditEntry.objects.get(object_type="resources.item", action="update")
    assert (edit.actor, edit.actor_username) == (lisi, "lisi")
    deactivated = AuditEntry.objects.filter(
        object_type="auth.user", object_id=str(lisi.pk), action="update"
    ).latest("id")
    assert deactivated.changes == [{"field": "is_active", "before": True, "after": False}]
    assert deactivated.actor_username == "admin" and deactivated.origin == "admin"


def test_a_role_change_is_audited_and_a_sign_in_is_not(demo_plant):
    from django.contrib.auth.models import Group

    lisi = person("lisi")
    before = AuditEntry.objects.filter(object_type="auth.user").count()
    assert Client().login(username="lisi", password="closedloop")  # writes last_login
    assert AuditEntry.objects.filter(object_type="auth.user").count() == before
    inspector = Group.objects.get(name="inspector")
    lisi.groups.add(inspector)
    entry = AuditEntry.objects.filter(object_type="auth.user", object_id=str(lisi.pk)).latest("id")
    groups = [c for c in entry.changes if c["field"] == "groups"][0]
    assert inspector.pk in groups["after"] and inspector.pk not in groups["before"]
    assert "password" not in {c["field"] for c in entry.changes}
