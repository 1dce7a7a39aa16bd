"""Notifications link to what they are about by a page address and its words, no longer by a
foreign key to an exception, before core takes the model over (core cannot refer to
execution). A notification about an exception keeps its link: the exception's page and its
number."""

from django.db import migrations, models

# The exception page's path when this migration was written (page URLs are public and stay).
ALERT_PAGE = "/execution/exceptions/{}/"


def links_from_alerts(apps, schema_editor):
    Notification = apps.get_model("execution", "Notification")
    WorkAlert = apps.get_model("execution", "WorkAlert")
    about = Notification.objects.filter(alert__isnull=False)
    numbers = dict(
        WorkAlert.objects.filter(pk__in=about.values("alert_id")).values_list("pk", "number")
    )
    for alert_id, number in numbers.items():
        about.filter(alert_id=alert_id).update(url=ALERT_PAGE.format(alert_id), link_text=number)


class Migration(migrations.Migration):
    dependencies = [
        ("execution", "0006_notification_url"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="link_text",
            field=models.CharField(
                blank=True,
                help_text="The link's words (an exception's number); “Open” when blank.",
                max_length=64,
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="url",
            field=models.CharField(
                blank=True, help_text="Where to look: the page of what it is about.", max_length=200
            ),
        ),
        migrations.RunPython(links_from_alerts, migrations.RunPython.noop),
        migrations.RemoveField(model_name="notification", name="alert"),
    ]
