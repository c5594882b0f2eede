"""manage.py b2b_progress: learner progress from Open edX and what is sent from it.

- ``sync [--contract ID | --run KEY] [--dry-run]``: sweep the progress (``b2b.services.progress
  .sync``);
- ``nudge``: remind the flagged learners of the contracts with automatic nudges (``.nudges``);
- ``digests``: claim and send the week's digests when they are due (``.digests``);
- ``requeue``: queue again the reminders and digests that nothing sent.

Without Celery beat (the embedded default), cron runs these (docs/operations.md).
"""

from django.core.management.base import BaseCommand, CommandError

from b2b.management import arguments
from b2b.management.rendering import TerminalProgress
from b2b.services.progress.digests import claim_weekly_digests, requeue_digests
from b2b.services.progress.nudges import nudge_flagged_learners, requeue_nudges
from b2b.services.progress.sync import (
    RunSyncResult,
    SyncOutcome,
    find_contract,
    find_contract_run,
    sync_contract,
    sync_live_runs,
    sync_run,
)
from config.acting import Actor, Channel, acting
from config.errors import DomainError


class Command(arguments.OneLineErrorsMixin, BaseCommand):
    help = "Learner progress from Open edX: sync the live contract runs, a contract or a run."

    def add_arguments(self, parser):
        sub = arguments.add_subcommands(parser, dest="action", metavar="ACTION")
        p = sub.add_parser(
            "sync",
            help="Sweep the progress of the live contract runs (or of --contract, --run) now.",
        )
        which = p.add_mutually_exclusive_group()
        which.add_argument(
            "--contract", type=arguments.object_id, help="Every run of this contract (its id)"
        )
        which.add_argument("--run", metavar="KEY", help="This contract run (its courseware id)")
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="Read Open edX and count what would be written; write nothing",
        )
        sub.add_parser(
            "nudge",
            help="Remind the learners who need attention, in the contracts with automatic nudges.",
        )
        sub.add_parser("digests", help="Claim and send the week's digests when they are due.")
        sub.add_parser("requeue", help="Queue again the reminders and digests nothing sent.")

    def handle(self, *args, action, **options):
        if action == "nudge":
            with acting(Actor(channel=Channel.SYSTEM, label="automatic nudges")):
                outcomes = nudge_flagged_learners()
            queued = sum(outcome.queued for outcome in outcomes.values())
            self.stdout.write(f"{queued} reminder(s) queued in {len(outcomes)} contract(s).")
        elif action == "digests":
            self.stdout.write(f"{len(claim_weekly_digests())} digest(s) claimed and queued.")
        elif action == "requeue":
            nudges, digests = requeue_nudges(), requeue_digests()
            self.stdout.write(
                f"{len(nudges)} reminder(s) and {len(digests)} digest(s) queued again."
            )
        else:
            self._sync(options["contract"], options["run"], options["dry_run"])

    def _sync(self, contract, run, dry_run):
        try:
            target_contract = find_contract(contract) if contract is not None else None
            target_run = find_contract_run(run) if run is not None else None
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        with TerminalProgress() as progress:
            if target_run is not None:
                results = [sync_run(target_run, dry_run=dry_run, report=progress)]
            elif target_contract is not None:
                results = sync_contract(target_contract, dry_run=dry_run, report=progress)
            else:
                results = sync_live_runs(dry_run=dry_run, report=progress)
        if not results:
            self.stdout.write("No contract runs to sync.")
        for result in results:
            self.stdout.write(_summary(result))
        failed = [result for result in results if result.failed]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} run(s) failed (see above)")


def _summary(result: RunSyncResult) -> str:
    key = result.courseware_id
    if result.outcome is SyncOutcome.ALREADY_RUNNING:
        return f"{key}: already running elsewhere; left alone"
    if result.failed:
        return f"{key}: FAILED: {result.error}"
    written = "would write" if result.dry_run else "written"
    figures = f"{result.learners} learners, {result.written} {written}, {result.unmapped} unmapped"
    return f"{key}: {'dry run, ' if result.dry_run else ''}{figures}"
