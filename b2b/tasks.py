"""Queued B2B work."""

import logging

from celery import shared_task

from b2b.exceptions import ContractNotFound
from b2b.services.codes import RECONCILE_TASK, reconcile_contract_codes

log = logging.getLogger(__name__)


@shared_task(name=RECONCILE_TASK, acks_late=True)
def reconcile_contract_codes_task(contract_id: int) -> dict:
    """Bring the contract's codes in line; a request already handled by an earlier run is a
    no-op, so requests that pile up for one contract coalesce."""
    try:
        result = reconcile_contract_codes(contract_id=contract_id)
    except ContractNotFound:
        log.warning("Contract %s no longer exists; nothing to reconcile", contract_id)
        return {"contract_id": contract_id, "skipped": True}
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
