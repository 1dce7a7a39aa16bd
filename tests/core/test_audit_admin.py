"""The audit trail is append-only in the admin too."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.audit import audit_record
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_admin_cannot_delete_or_change_audit_entries():
    admin = get_user_model().objects.create_superuser("root", "root@plant.local", "pw-12345-x")
    entry = audit_record(actor=admin, action="test.action", obj=admin, data={"n": 1})
    client = Client()
    client.force_login(admin)
    assert client.get(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/core/auditentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    assert client.get(f"/admin/core/auditentry/{entry.pk}/change/").status_code == 200  # view only
