"""manage.py requeue_stuck_edx_copies: the sweep of Open edX copies pending with no news that
Celery beat runs (task ``courses.requeue_stuck_edx_copies``), for cron on the embedded default."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from config.commands import OneLineErrorsMixin
from courses.services.edx_copy import requeue_stuck_copies


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Queue again the Open edX copies pending with no news for longer than "
        "OPENEDX_COPY_REQUEUE_AFTER_SECONDS; what beat runs every PENDING_SWEEP_INTERVAL_SECONDS."
    )

    def handle(self, *args, **options):
        runs = requeue_stuck_copies(
            older_than=timedelta(seconds=settings.OPENEDX_COPY_REQUEUE_AFTER_SECONDS)
        )
        if not runs:
            self.stdout.write("No Open edX copy waiting")
            return
        self.stdout.write(f"Queued {len(runs)} Open edX copy(ies) again:")
        for run in runs:
            self.stdout.write(f"  {run.courseware_id}")
