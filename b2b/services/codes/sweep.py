"""The sweep of pending code reconciliations: queue again what has waited too long.

A reconciliation can be lost after it was requested: the broker was down when it was to be
queued, a worker died while running it (its message comes back only after the broker's
visibility timeout), or the broker restarted without its queue. The contract then stays
pending. Celery beat runs ``SWEEP_TASK`` every ``PENDING_SWEEP_INTERVAL_SECONDS``
(config/settings/integrations.py); ``b2b_contract sync-codes --all-pending`` does the same by hand,
in the
command's process. Queuing a contract again is harmless: reconciliations of one contract run one
at a time and skip work already done.
"""

import logging
from datetime import timedelta

from django.db import transaction

from b2b.services.codes.reconcile import RECONCILE_TASK
from b2b.services.codes.status import pending_contract_ids
from config.queueing import queue_after_commit

log = logging.getLogger(__name__)

# The registered name of the task that runs ``requeue_pending_reconciliations`` (b2b/tasks.py),
# as Celery beat's schedule names it.
SWEEP_TASK = "b2b.requeue_pending_codes"


def requeue_pending_reconciliations(*, older_than: timedelta) -> list[int]:
    """Queue the reconciliation of every contract whose codes have been pending for at least
    ``older_than``; returns their ids."""
    contract_ids = pending_contract_ids(older_than=older_than)
    with transaction.atomic():
        for contract_id in contract_ids:
            queue_after_commit(RECONCILE_TASK, contract_id)
    if contract_ids:
        log.info(
            "Queued again the code reconciliation of %s pending contract(s): %s",
            len(contract_ids),
            ", ".join(map(str, contract_ids)),
        )
    return contract_ids
