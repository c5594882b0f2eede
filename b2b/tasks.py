"""Queued B2B work."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from b2b.exceptions import ContractNotFound
from b2b.models import InviteJob
from b2b.services.code_sweep import SWEEP_TASK, requeue_pending_reconciliations
from b2b.services.codes import RECONCILE_TASK, ReconcileResult, reconcile_contract_codes
from b2b.services.invite_jobs import INVITE_JOB_TASK, run_invite_job
from config.acting import Actor, Channel, acting
from config.db_errors import GaveUp, with_conflict_retries

log = logging.getLogger(__name__)


@shared_task(bind=True, name=RECONCILE_TASK, acks_late=True)
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


@shared_task(name=SWEEP_TASK)
def requeue_pending_codes_task() -> list[int]:
    """Queue again the reconciliations pending for longer than B2B_CODES_REQUEUE_AFTER_SECONDS
    (run by Celery beat); returns the contract ids."""
    return requeue_pending_reconciliations(
        older_than=timedelta(seconds=settings.B2B_CODES_REQUEUE_AFTER_SECONDS)
    )


@shared_task(name=INVITE_JOB_TASK, acks_late=True)
def run_invite_job_task(job_id: int) -> dict:
    """Invite the rows of a manager's uploaded file, as that manager (``run_invite_job``; a
    finished job is left alone, so running it twice is safe)."""
    job = InviteJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        log.warning("Invite job %s no longer exists; nothing to do", job_id)
        return {"job_id": job_id, "skipped": True}
    with acting(Actor(channel=Channel.MANAGER, user=job.created_by)):
        done = run_invite_job(job_id=job_id)
    return {"job_id": job_id, "skipped": done is None}
