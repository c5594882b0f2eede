"""manage.py b2b_alerts: the utilization-alert check that Celery beat runs, on demand."""

from django.core.management.base import BaseCommand

from b2b.services.alerts import check_contract_alerts
from config.commands import OneLineErrorsMixin


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Claim and send the utilization alerts due (seats used, days before the end), and send "
        "again those still unsent; what beat runs every B2B_ALERT_CHECK_INTERVAL_SECONDS."
    )

    def handle(self, *args, **options):
        result = check_contract_alerts()
        for contract_id, threshold in result.claimed:
            self.stdout.write(f"Contract {contract_id}: {threshold} alert queued")
        if result.requeued:
            self.stdout.write(f"{len(result.requeued)} unsent alerts queued again")
        if not result.claimed and not result.requeued:
            self.stdout.write("No alerts due")
