"""The default routing of exceptions by type and severity (editable in the admin)."""

from django.db import migrations

TYPES = ["equipment_fault", "material_shortage", "quality", "other"]


def defaults():
    for alert_type in TYPES:
        # General: handled on the floor; recorded and visible to planning; no deadline.
        yield alert_type, "general", "operator", None, "supervisor", False
        # Urgent: the work center's production supervisor acknowledges within an hour.
        yield alert_type, "urgent", "supervisor", 60, "plant_manager", False
        if alert_type == "material_shortage":
            yield alert_type, "severe", "supply_chain_director", 30, "plant_manager", True
        else:
            yield alert_type, "severe", "plant_manager", 30, "admin", False


def load(apps, schema_editor):
    AlertRule = apps.get_model("execution", "AlertRule")
    for alert_type, severity, handler, ack, escalate, requisition in defaults():
        AlertRule.objects.get_or_create(
            alert_type=alert_type,
            severity=severity,
            defaults={
                "handler_role": handler,
                "ack_minutes": ack,
                "escalate_to_role": escalate,
                "auto_requisition": requisition,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("execution", "0002_work_alerts")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
