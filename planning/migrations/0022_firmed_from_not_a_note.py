"""An order firmed from MRP no longer carries "Firmed from MRP run N (ref)" as its note: the
order page and the API (`firmed_from`) show that origin from the planned order, in the
reader's language, and the note is left to what a person writes."""

from django.db import migrations


def _note(planned) -> str:
    return f"Firmed from MRP run {planned.run_id} ({planned.ref})"


def forwards(apps, schema_editor):
    PlannedOrder = apps.get_model("planning", "PlannedOrder")
    ProductionOrder = apps.get_model("planning", "ProductionOrder")
    for planned in PlannedOrder.objects.exclude(production_order=None).only(
        "run_id", "ref", "production_order_id"
    ):
        ProductionOrder.objects.filter(pk=planned.production_order_id, note=_note(planned)).update(
            note=""
        )


def backwards(apps, schema_editor):
    PlannedOrder = apps.get_model("planning", "PlannedOrder")
    ProductionOrder = apps.get_model("planning", "ProductionOrder")
    for planned in PlannedOrder.objects.exclude(production_order=None).only(
        "run_id", "ref", "production_order_id"
    ):
        ProductionOrder.objects.filter(pk=planned.production_order_id, note="").update(
            note=_note(planned)
        )


class Migration(migrations.Migration):
    dependencies = [("planning", "0021_requisition_reason_text")]

    operations = [migrations.RunPython(forwards, backwards)]
