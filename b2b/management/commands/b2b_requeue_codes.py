"""manage.py b2b_requeue_codes: the sweep of pending code reconciliations that Celery beat runs
(task ``b2b.requeue_pending_codes``), for cron on the embedded default."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from b2b.services.codes.sweep import requeue_pending_reconciliations
from config.commands import OneLineErrorsMixin


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Queue again the code reconciliations pending for longer than "
        "B2B_CODES_REQUEUE_AFTER_SECONDS; what beat runs every PENDING_SWEEP_INTERVAL_SECONDS."
    )

    def handle(self, *args, **options):
        contract_ids = requeue_pending_reconciliations(
            older_than=timedelta(seconds=settings.B2B_CODES_REQUEUE_AFTER_SECONDS)
        )
        if not contract_ids:
            self.stdout.write("No code reconciliation waiting")
            return
        ids = ", ".join(str(pk) for pk in contract_ids)
        self.stdout.write(f"Queued the codes of {len(contract_ids)} contract(s) again: {ids}")
