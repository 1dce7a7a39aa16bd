"""The Celery application. Broker and schedule come from settings and config.beat."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("closedloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _beat_schedule():
    from config.beat import BEAT_SCHEDULE

    return BEAT_SCHEDULE


app.conf.beat_schedule = _beat_schedule()
