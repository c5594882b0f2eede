"""manage.py b2b_invitation_reminders: the automatic invitation reminders that Celery beat runs
(task ``b2b.send_invitation_reminders``), for cron on the embedded default."""

from django.core.management.base import BaseCommand

from b2b.services.invitations.lifecycle import send_due_reminders, sync_redeemed
from config.commands import OneLineErrorsMixin


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Store the invitations redeemed since the last run, then remind the open ones that are "
        "due (B2B_INVITATION_REMINDER_DAYS, B2B_INVITATION_MAX_REMINDERS); what beat runs every "
        "B2B_INVITATION_SWEEP_INTERVAL_SECONDS."
    )

    def handle(self, *args, **options):
        redeemed = sync_redeemed()
        reminded = send_due_reminders()
        self.stdout.write(
            f"{redeemed} invitation(s) redeemed since the last run, {reminded} reminded"
        )
