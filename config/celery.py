"""The Celery application. Settings come from Django's settings (the CELERY_ namespace)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.imports = ("config.tasks",)

# The nightly progress sync runs at its hour; the settings declare it as a day's interval so
# that reading them does not import Celery.
if "sync-live-progress" in app.conf.beat_schedule:
    from django.conf import settings

    app.conf.beat_schedule["sync-live-progress"]["schedule"] = crontab(
        hour=settings.B2B_PROGRESS_SYNC_HOUR, minute=0
    )
