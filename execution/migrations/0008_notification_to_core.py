"""Notifications are core's now (core's 0003): execution forgets the model; the table and
its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("execution", "0007_notification_link"),
        ("core", "0003_notification"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]
