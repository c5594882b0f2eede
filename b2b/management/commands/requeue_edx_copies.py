"""manage.py requeue_edx_copies: queue the Open edX copies of contract runs again (b2b owns it:
it names contracts, and courses knows nothing of them)."""

from django.core.management.base import BaseCommand, CommandError

from b2b.models import ContractPage
from config.commands import OneLineErrorsMixin, object_id
from courses.exceptions import CoursesError
from courses.services.edx_copy import requeue_run_copies


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Queue again the Studio copies of a contract's runs (--contract) or of one run (--run). "
        "Copies are idempotent: a run Studio already has only gets its title and schedule again."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--contract", type=object_id, metavar="ID", help="A contract id.")
        target.add_argument(
            "--run", metavar="COURSEWARE_ID", help="A run key, e.g. course-v1:UAI_ORG1+C1+2026_C4"
        )
        parser.add_argument(
            "--failed-only",
            action="store_true",
            help="Only runs whose copy failed or was left 'not configured'.",
        )

    def handle(self, *args, contract, run, failed_only, **options):
        if contract is not None and not ContractPage.objects.filter(pk=contract).exists():
            raise CommandError(f"No contract with id {contract}")
        try:
            runs = requeue_run_copies(
                contract_id=contract, courseware_id=run, failed_only=failed_only
            )
        except CoursesError as exc:
            raise CommandError(str(exc)) from exc

        scope = f"contract {contract}" if contract is not None else f"run {run}"
        if not runs:
            which = "failed copies" if failed_only else "runs with an Open edX copy"
            self.stdout.write(f"Nothing to queue: {scope} has no {which}.")
            return
        self.stdout.write(f"Queued {len(runs)} Open edX cop{'y' if len(runs) == 1 else 'ies'}:")
        for queued in runs:
            self.stdout.write(f"  {queued.courseware_id} (from {queued.edx_copy_source})")
