"""manage.py b2b_requeue_invitation_work: the sweep of managers' queued work that Celery beat
runs (task ``b2b.requeue_invitation_work``), for cron on the embedded default."""

from django.core.management.base import BaseCommand

from b2b.services.invitations.sweep import requeue_invitation_work
from config.commands import OneLineErrorsMixin


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Queue again the invite jobs and invitation e-mails nothing picked up, and the e-mails "
        "that failed for a transient reason; what beat runs every PENDING_SWEEP_INTERVAL_SECONDS."
    )

    def handle(self, *args, **options):
        requeued = requeue_invitation_work()
        self.stdout.write(
            f"Queued again {len(requeued.job_ids)} invite job(s) and "
            f"{len(requeued.email_ids)} invitation e-mail(s)"
        )
