"""A worker keeps logging after it has queued a task itself.

Queueing a task registers the project's tasks (``config.queueing``); in a worker, whose
Django is set up and whose logging Celery has configured, that must not set Django up again
(which would put back Django's logging configuration and silence the worker).
"""

import re
import time

import pytest

from b2b.models import ContractCodeStatus
from tests.b2b.helpers import contract_with_products, left_pending, summary
from tests.support import factories as f

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _wait_for(log_file, pattern: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_file.read_text()
        if re.search(pattern, text, re.MULTILINE):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} never appeared in the worker log:\n{log_file.read_text()}")


def test_the_worker_still_logs_after_queueing_and_logs_the_health_findings(
    site_tree, celery_worker_process, celery_worker_log
):
    contract, (product,) = contract_with_products(products=1, max_learners=2)
    left_pending(contract, minutes_ago=30)
    lonely = f.ContractPageFactory(title="Lonely 2027")
    run = f.CourseRunFactory(b2b_contract=lonely, run_tag="2027_L1")  # no product: a finding

    # The sweep queues the reconciliation: the first task this worker process queues.
    swept = celery_worker_process.send_task("b2b.requeue_pending_codes")
    assert swept.get(timeout=60) == [contract.pk]
    deadline = time.monotonic() + 60
    while ContractCodeStatus.objects.get(pk=contract.pk).is_pending:
        assert time.monotonic() < deadline, celery_worker_log.read_text()
        time.sleep(0.2)
    assert summary(product) == (2, 0, 0, 0)
    # Celery's own line for the task run after the queueing is in the log.
    _wait_for(celery_worker_log, r"Task b2b\.reconcile_contract_codes\[[-0-9a-f]+\] succeeded")

    report = celery_worker_process.send_task("b2b.health_report")
    assert report.get(timeout=60) == 1
    text = _wait_for(celery_worker_log, r"Task b2b\.health_report\[[-0-9a-f]+\] succeeded")
    health_lines = [line for line in text.splitlines() if "Health: " in line]
    assert len(health_lines) == 1, text
    assert health_lines[0].endswith(
        f"Health: error run-without-product, contract {lonely.pk} Lonely 2027: run "
        f"{run.courseware_id} has no active product: its learners cannot enroll"
    ), text
    assert "Traceback" not in text
