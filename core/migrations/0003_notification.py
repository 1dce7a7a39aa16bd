"""Notifications move from execution to core (so that every app can notify people). The
table stays where it is, execution_notification: this migration only tells Django's state
that core now has the model; execution's 0008 removes it from execution's state."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_document_counter"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # The table is made and last changed by execution's migrations: later migrations of
        # core that change it must come after them.
        ("execution", "0007_notification_link"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("text", models.CharField(max_length=300)),
                        (
                            "url",
                            models.CharField(
                                blank=True,
                                help_text="Where to look: the page of what it is about.",
                                max_length=200,
                            ),
                        ),
                        (
                            "link_text",
                            models.CharField(
                                blank=True,
                                help_text="The link's words (an exception's number); “Open” when blank.",
                                max_length=64,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("read_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "execution_notification",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(
                                fields=["user", "read_at"], name="execution_n_user_id_7cb4a3_idx"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
