"""Periodic work of the site's pages."""

import io
import logging

from django.core.management import call_command

from config.celery import app

log = logging.getLogger(__name__)

PUBLISH_SCHEDULED_TASK = "cms.publish_scheduled"


@app.task(name=PUBLISH_SCHEDULED_TASK)
def publish_scheduled_pages() -> None:
    """Publish the drafts whose go-live time has come and unpublish the expired pages (Celery
    beat, every WAGTAIL_PUBLISH_SCHEDULED_INTERVAL_SECONDS), with Wagtail's own command. What a
    publish of an organization or a contract sets off (its codes, the audit trail, as
    "system") follows from Wagtail's signal, b2b.services.publishing."""
    output = io.StringIO()
    call_command("publish_scheduled", stdout=output)
    for line in output.getvalue().splitlines():
        if line.strip():
            log.info("publish_scheduled: %s", line.strip())
