"""Queued B2B work."""

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from b2b.exceptions import ContractNotFound
from b2b.services.alerts import (
    CHECK_TASK,
    SEND_TASK,
    check_contract_alerts,
    note_send_failure,
    send_alert,
)
from b2b.services.code_sweep import SWEEP_TASK, requeue_pending_reconciliations
from b2b.services.codes import RECONCILE_TASK, ReconcileResult, reconcile_contract_codes
from b2b.services.health import HEALTH_TASK, health_report, notify_staff
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


@shared_task(name=HEALTH_TASK)
def health_report_task() -> int:
    """Run the health report, log its findings and mail staff the new ones (Celery beat, every
    B2B_HEALTH_INTERVAL_SECONDS); returns how many findings were new."""
    return len(notify_staff(health_report()))


@shared_task(name=SEND_TASK, acks_late=True)
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


@shared_task(name=CHECK_TASK)
def check_contract_alerts_task() -> dict:
    """Claim and send the utilization alerts due (run by Celery beat every
    B2B_ALERT_CHECK_INTERVAL_SECONDS). Alerts carry no actor: they change no contract."""
    result = check_contract_alerts()
    return {
        "claimed": [f"{pk}:{threshold}" for pk, threshold in result.claimed],
        "requeued": result.requeued,
    }
