"""What ``manage.py b2b_contract`` says after a change: the courseware it attached, created or
detached, and what becomes of the contract's enrollment codes."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from b2b.services.codes.reconcile import RECONCILE_TASK
from b2b.services.codes.rules import CodePlan
from b2b.services.codes.status import code_status
from b2b.services.courseware import CoursewareResult
from config.queueing import Call


def report_courseware(out: BaseCommand, result: CoursewareResult, *, dry_run: bool):
    def say(done: str, would: str, what: str) -> None:
        out.stdout.write(f"{would if dry_run else done} {what}")

    for readable_id in result.attached:
        say("Attached", "Would attach", readable_id)
    for run in result.created_runs:
        say(
            "Created",
            "Would create",
            f"run {run.courseware_id} ({run.course.readable_id}); "
            f"Open edX copy: {run.get_edx_copy_state_display().lower()}",
        )
    for run in result.assigned_runs:
        say("Assigned", "Would assign", f"run {run.courseware_id}")
    for run in result.detached_runs:
        say("Detached", "Would detach", f"run {run.courseware_id}")
    created, deactivated = ("Created", "Would create"), ("Deactivated", "Would deactivate")
    counts = (
        (result.products_created, *created, "products"),
        (result.products_deactivated, *deactivated, "products"),
        (result.codes_deactivated, *deactivated, "unused enrollment codes"),
    )
    for count, done, would, what in counts:
        if count:
            say(done, would, f"{count} {what}")
    for readable_id, reason in result.skipped:
        out.stdout.write(f"Skipped {readable_id}: {reason}")
    for warning in result.warnings:
        out.stderr.write(out.style.WARNING(f"Warning: {warning}"))


def report_codes(
    out: BaseCommand,
    contract_id: int,
    plan: CodePlan | None,
    *,
    queued: bool,
    unsent: list[Call],
    only_trouble: bool = False,
):
    """Say what happens to the contract's codes; with ``only_trouble``, only when they are
    left pending."""
    if plan is not None:
        for line in plan.summary_lines():
            out.stdout.write(line)
        out.stdout.write("Dry run: nothing was written.")
        return
    if not queued:
        return
    if (RECONCILE_TASK, (contract_id,)) in unsent:
        out.stdout.write(
            "Enrollment codes are pending: the queue could not be reached. The periodic "
            "sweep queues them again once it is back, or run "
            f"`b2b_contract sync-codes {contract_id}` now."
        )
    elif settings.CELERY_TASK_ALWAYS_EAGER:
        # The reconciliation ran in this process when the change committed; inside a
        # caller's transaction (call_command in a test) it runs only when that one commits.
        status = None if connection.in_atomic_block else code_status(contract_id)
        if status is not None and status.is_pending:
            error = f" ({status.last_error})" if status.last_error else ""
            out.stdout.write(
                f"Enrollment codes are still pending{error}: run "
                f"`b2b_contract sync-codes {contract_id}`."
            )
        elif not only_trouble:
            out.stdout.write("Enrollment codes were brought up to date.")
    elif not only_trouble:
        out.stdout.write(
            "Enrollment codes will be brought up to date in the background "
            "(`b2b_list contracts` shows when)."
        )
