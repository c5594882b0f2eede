"""Queued B2B work."""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError

from b2b.exceptions import ContractNotFound
from b2b.models import InviteJob
from b2b.services.alerts import CHECK_TASK, check_contract_alerts, note_send_failure, send_alert
from b2b.services.alerts import SEND_TASK as ALERT_SEND_TASK
from b2b.services.codes.reconcile import RECONCILE_TASK, ReconcileResult, reconcile_contract_codes
from b2b.services.codes.sweep import SWEEP_TASK, requeue_pending_reconciliations
from b2b.services.health.notify import HEALTH_TASK, notify_staff
from b2b.services.health.report import health_report
from b2b.services.invitations.emails import RETRY_TASK, attempts_of, send_email
from b2b.services.invitations.emails import SEND_TASK as INVITATION_SEND_TASK
from b2b.services.invitations.jobs import INVITE_JOB_TASK, run_invite_job
from b2b.services.invitations.lifecycle import REMINDER_TASK, send_due_reminders, sync_redeemed
from b2b.services.invitations.sweep import SWEEP_TASK as INVITATION_SWEEP_TASK
from b2b.services.invitations.sweep import requeue_invitation_work
from b2b.services.mail import retry_countdown
from b2b.services.progress.digests import (
    DIGEST_SWEEP_TASK,
    DIGEST_TASK,
    SEND_DIGEST_TASK,
    claim_weekly_digests,
    digest_attempts,
    requeue_digests,
    send_digest,
)
from b2b.services.progress.nudges import (
    AUTO_NUDGE_TASK,
    NUDGE_SWEEP_TASK,
    NUDGE_TASK,
    nudge_attempts,
    nudge_flagged_learners,
    requeue_nudges,
    send_nudge,
)
from b2b.services.progress.sync import (
    SYNC_CONTRACT_TASK,
    SYNC_LIVE_TASK,
    SYNC_RUN_TASK,
    queue_contract_syncs,
    queue_live_syncs,
    sync_run_by_id,
)
from config.acting import Actor, Channel, acting
from config.celery import app
from config.db_errors import GaveUp, one_line, with_conflict_retries

log = logging.getLogger(__name__)


@app.task(bind=True, name=RECONCILE_TASK, acks_late=True)
def reconcile_contract_codes_task(self, contract_id: int) -> dict:
    """Bring the contract's codes in line; a request already handled by an earlier run is a
    no-op, so requests that pile up for one contract coalesce.

    A deadlock or a serialization failure (nothing was written) is retried after a growing
    wait, a bounded number of times (``with_conflict_retries``). Each failed attempt is
    recorded as the contract's last error; when the retries run out the codes stay pending,
    and the pending sweep queues them again later.
    """
    try:
        result = with_conflict_retries(
            self,
            lambda: reconcile_contract_codes(contract_id=contract_id),
            what=f"Codes of contract {contract_id}",
        )
    except ContractNotFound:
        log.warning("Contract %s no longer exists; nothing to reconcile", contract_id)
        return {"contract_id": contract_id, "skipped": True}
    if isinstance(result, GaveUp):
        return {"contract_id": contract_id, "skipped": False, "error": result.reason}
    return _summary(contract_id, result)


def _summary(contract_id: int, result: ReconcileResult) -> dict:
    if result.skipped or result.plan is None:
        return {"contract_id": contract_id, "skipped": True}
    return {
        "contract_id": contract_id,
        "skipped": False,
        "created": result.plan.codes_to_create,
        "deactivated": result.plan.codes_to_deactivate,
        "reactivated": result.plan.codes_to_reactivate,
        "deleted": result.plan.codes_to_delete,
    }


@app.task(name=SWEEP_TASK)
def requeue_pending_codes_task() -> list[int]:
    """Queue again the reconciliations pending for longer than B2B_CODES_REQUEUE_AFTER_SECONDS
    (run by Celery beat); returns the contract ids."""
    return requeue_pending_reconciliations(
        older_than=timedelta(seconds=settings.B2B_CODES_REQUEUE_AFTER_SECONDS)
    )


@app.task(name=HEALTH_TASK)
def health_report_task() -> int:
    """Run the health report, log its findings and mail staff the new ones (Celery beat, every
    B2B_HEALTH_INTERVAL_SECONDS); returns how many findings were new."""
    return len(notify_staff(health_report()))


@app.task(name=ALERT_SEND_TASK, acks_late=True)
def send_contract_alert_task(alert_id: int) -> bool:
    """E-mail one utilization alert, unless it went out already (safe to run twice). When the
    SMTP server refuses or cannot be reached, the error is kept on the alert, one warning line
    is logged, and the next periodic check sends it again."""
    try:
        return send_alert(alert_id=alert_id)
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        note_send_failure(alert_id=alert_id, error=error)
        log.warning("Could not send alert %s, left for the next check: %s", alert_id, error)
        return False


@app.task(name=CHECK_TASK)
def check_contract_alerts_task() -> dict:
    """Claim and send the utilization alerts due (run by Celery beat every
    B2B_ALERT_CHECK_INTERVAL_SECONDS). Alerts carry no actor: they change no contract."""
    result = check_contract_alerts()
    return {
        "claimed": [f"{pk}:{threshold}" for pk, threshold in result.claimed],
        "requeued": result.requeued,
    }


@app.task(name=INVITE_JOB_TASK, acks_late=True)
def run_invite_job_task(job_id: int) -> dict:
    """Invite the rows of a manager's uploaded file, as that manager (``run_invite_job``; a
    finished job, or one another run is at, is left alone, so running it twice is safe). A
    database error leaves the job queued for the sweep, with one warning line."""
    job = InviteJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        log.warning("Invite job %s no longer exists; nothing to do", job_id)
        return {"job_id": job_id, "skipped": True}
    try:
        with acting(Actor(channel=Channel.MANAGER, user=job.created_by)):
            done = run_invite_job(job_id=job_id)
    except DatabaseError as exc:
        log.warning("Invite job %s stopped, left queued for the sweep: %s", job_id, one_line(exc))
        return {"job_id": job_id, "skipped": False, "error": one_line(exc)}
    return {"job_id": job_id, "skipped": done is None}


@app.task(name=INVITATION_SWEEP_TASK)
def requeue_invitation_work_task() -> dict[str, list[int]]:
    """Queue again the invite jobs and invitation e-mails nothing picked up (run by Celery beat
    every PENDING_SWEEP_INTERVAL_SECONDS); returns their ids."""
    requeued = requeue_invitation_work()
    return {"jobs": requeued.job_ids, "emails": requeued.email_ids}


def _send_one(email_id: int) -> str:
    outcome = send_email(email_id)
    if outcome.transient:
        attempts = attempts_of(email_id)
        log.warning(
            "E-mail %s not sent (%s); trying again in %ss",
            email_id,
            outcome.error,
            retry_countdown(attempts),
        )
        retry_invitation_email_task.apply_async((email_id,), countdown=retry_countdown(attempts))
    return outcome.state.value


@app.task(name=INVITATION_SEND_TASK, acks_late=True)
def send_invitation_emails_task(*email_ids: int) -> dict[int, str]:
    """Send queued invitation e-mails; each message's outcome is recorded on its row, and a
    transient failure is retried later, alone (``RETRY_TASK``)."""
    return {email_id: _send_one(email_id) for email_id in email_ids}


@app.task(name=RETRY_TASK, acks_late=True)
def retry_invitation_email_task(email_id: int) -> str:
    """Try one message again after a transient failure (with a growing wait)."""
    return _send_one(email_id)


@app.task(name=REMINDER_TASK)
def send_invitation_reminders_task() -> dict[str, int]:
    """Run by Celery beat: store the invitations redeemed since the last run, then remind the
    open ones that are due (B2B_INVITATION_REMINDER_DAYS, B2B_INVITATION_MAX_REMINDERS)."""
    with acting(Actor(channel=Channel.SYSTEM, label="invitation reminders")):
        redeemed = sync_redeemed()
        reminded = send_due_reminders()
    return {"redeemed": redeemed, "reminded": reminded}


@app.task(name=SYNC_RUN_TASK, acks_late=True)
def sync_run_progress_task(run_id: int) -> dict:
    """Sweep one contract run's progress from Open edX (``sync_run``). Safe to run twice: a
    second sync of a run finds it claimed and returns; a killed one is resumed at its cursor.
    Open edX's faults are retried inside, page by page; a run still failing is recorded on its
    sync row and tried again by the next sync, so the task itself is not retried."""
    result = sync_run_by_id(run_id)
    if result is None:
        return {"run_id": run_id, "skipped": True}
    return {
        "run_id": run_id,
        "outcome": result.outcome.value,
        "learners": result.learners,
        "written": result.written,
        "unmapped": result.unmapped,
        "error": result.error,
    }


@app.task(name=SYNC_CONTRACT_TASK)
def sync_contract_progress_task(contract_id: int) -> list[int]:
    """Queue the progress sync of each run of the contract; returns the run ids."""
    return queue_contract_syncs(contract_id)


@app.task(name=SYNC_LIVE_TASK)
def sync_live_progress_task() -> list[int]:
    """Nightly (Celery beat): queue the progress sync of each live contract run; returns the
    run ids."""
    return queue_live_syncs()


# Learner progress e-mail: nudges and weekly digests (b2b.services.progress.nudges, .digests).


def _send_nudge(nudge_id: int) -> str:
    outcome = send_nudge(nudge_id)
    if outcome.transient:
        countdown = retry_countdown(nudge_attempts(nudge_id))
        log.warning(
            "Nudge %s not sent (%s); trying again in %ss", nudge_id, outcome.error, countdown
        )
        send_progress_nudges_task.apply_async((nudge_id,), countdown=countdown)
    return outcome.state.value


@app.task(name=NUDGE_TASK, acks_late=True)
def send_progress_nudges_task(*nudge_ids: int) -> dict[int, str]:
    """Send queued nudges; each one's outcome is recorded on its row, and a transient failure
    is tried again later, alone, after a growing wait."""
    return {nudge_id: _send_nudge(nudge_id) for nudge_id in nudge_ids}


@app.task(name=AUTO_NUDGE_TASK)
def nudge_flagged_learners_task() -> dict[int, int]:
    """Run by Celery beat every day: nudge the learners who need attention in the contracts
    with automatic nudges (each learner row once per B2B_PROGRESS_NUDGE_COOLDOWN_DAYS); returns
    the nudges queued per contract id."""
    with acting(Actor(channel=Channel.SYSTEM, label="automatic nudges")):
        outcomes = nudge_flagged_learners()
    return {contract_id: outcome.queued for contract_id, outcome in outcomes.items()}


@app.task(name=NUDGE_SWEEP_TASK)
def requeue_progress_nudges_task() -> list[int]:
    """Queue again the nudges nothing sent (Celery beat, every PENDING_SWEEP_INTERVAL_SECONDS)."""
    return requeue_nudges()


@app.task(name=DIGEST_TASK)
def send_progress_digests_task() -> list[int]:
    """Run by Celery beat every hour: on Monday from B2B_PROGRESS_DIGEST_HOUR, claim the week's
    digest of each manager who wants it (once per manager and week) and send it; returns the
    claimed digests' ids."""
    return claim_weekly_digests()


@app.task(name=SEND_DIGEST_TASK, acks_late=True)
def send_progress_digest_task(digest_id: int) -> str:
    """Send one claimed digest (a digest sent already is left alone); a transient failure is
    tried again after a growing wait."""
    outcome = send_digest(digest_id)
    if outcome.transient:
        countdown = retry_countdown(digest_attempts(digest_id))
        log.warning(
            "Digest %s not sent (%s); trying again in %ss", digest_id, outcome.error, countdown
        )
        send_progress_digest_task.apply_async((digest_id,), countdown=countdown)
    return outcome.state.value


@app.task(name=DIGEST_SWEEP_TASK)
def requeue_progress_digests_task() -> list[int]:
    """Queue again this week's digests nothing sent (Celery beat, every
    PENDING_SWEEP_INTERVAL_SECONDS)."""
    return requeue_digests()
