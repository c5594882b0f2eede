"""What a deadlock does to a reconciliation and to an operator's command.

No path of the project takes locks out of order any more (tests/b2b/test_lock_order.py), so
the deadlock here comes from another client that does: it locks the contract's code status row,
waits until the project's transaction waits for that row, then asks for the contract itself.
The project's transaction, which was waiting first, is the one PostgreSQL aborts.
"""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db.models import F

from b2b.models import ContractCodeStatus, ContractPage
from b2b.tasks import reconcile_contract_codes_task
from tests.b2b.helpers import contract_with_products, summary
from tests.support.databases import database_url_for_subprocess, lock_waiters, other_client
from tests.support.races import InThread, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]


def _requested(contract) -> None:
    ContractCodeStatus.objects.create(contract=contract)
    ContractCodeStatus.objects.filter(pk=contract.pk).update(
        requested_version=F("requested_version") + 1
    )


class OutOfOrderClient:
    """Another program's transaction: the code status row first, then the contract."""

    def __init__(self, contract_id: int) -> None:
        self.contract_id = contract_id
        self.connection = other_client()
        self.connection.execute(
            "SELECT 1 FROM b2b_contractcodestatus WHERE contract_id = %s FOR UPDATE",
            [contract_id],
        )

    def close_the_cycle(self) -> InThread:
        """Once the project's transaction waits for the status row, ask for the contract (in
        a thread: it waits until PostgreSQL has aborted the other side), then commit."""
        wait_until(lambda: lock_waiters() == 1, what="the project's transaction waits")

        def take_the_contract() -> None:
            self.connection.execute(
                "SELECT 1 FROM b2b_contractpage WHERE page_ptr_id = %s FOR UPDATE",
                [self.contract_id],
            )
            self.connection.commit()
            self.connection.close()

        return InThread(take_the_contract)


@pytest.mark.redis
@pytest.mark.parametrize(
    "celery_worker_env",
    [{"DATABASE_CONFLICT_RETRY_SECONDS": "1", "DATABASE_CONFLICT_RETRIES": "3"}],
)
def test_the_worker_retries_a_deadlocked_reconciliation_after_a_wait(
    site_tree, celery_worker_process, celery_worker_log
):
    contract, products = contract_with_products(products=2, max_learners=5)
    _requested(contract)
    other = OutOfOrderClient(contract.pk)

    sent = celery_worker_process.send_task("b2b.reconcile_contract_codes", args=[contract.pk])
    other.close_the_cycle().result()

    assert sent.get(timeout=60) == {
        "contract_id": contract.pk,
        "skipped": False,
        "created": 10,
        "deactivated": 0,
        "reactivated": 0,
        "deleted": 0,
    }
    worker_output = celery_worker_log.read_text()
    assert f"Codes of contract {contract.pk}: deadlock detected; retry 1 of 3 in 1s" in (
        worker_output
    )
    assert "Retry in 1s" in worker_output
    assert "Traceback" not in worker_output
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert (status.is_pending, status.last_error) == (False, "")
    for product in products:
        assert summary(product) == (5, 0, 0, 0)


def test_without_a_broker_a_deadlocked_reconciliation_is_retried_at_once(
    site_tree, settings, caplog
):
    settings.DATABASE_CONFLICT_RETRIES = 3
    contract, (product,) = contract_with_products(products=1, max_learners=4)
    _requested(contract)
    other = OutOfOrderClient(contract.pk)

    reconciling = InThread(lambda: reconcile_contract_codes_task.apply(args=[contract.pk]).get())
    other.close_the_cycle().result()

    assert reconciling.result()["created"] == 4
    assert summary(product) == (4, 0, 0, 0)
    assert [r.getMessage() for r in caplog.records if r.name == "config.db_errors"] == [
        f"Codes of contract {contract.pk}: deadlock detected; retry 1 of 3 now"
    ]
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert (status.is_pending, status.last_error) == (False, "")


def _listed_error(run_command, contract_id) -> tuple[str | None, str]:
    out, _ = run_command("b2b_list", "contracts", "--format", "json")
    (row,) = [row for row in json.loads(out) if row["id"] == contract_id]
    table, _ = run_command("b2b_list", "contracts")
    return row["codes_error"], table


def test_when_retries_run_out_the_error_is_recorded_listed_and_cleared(
    site_tree, settings, run_command
):
    settings.DATABASE_CONFLICT_RETRIES = 0
    contract, products = contract_with_products(products=1, max_learners=3)
    _requested(contract)
    other = OutOfOrderClient(contract.pk)

    reconciling = InThread(lambda: reconcile_contract_codes_task.apply(args=[contract.pk]).get())
    other.close_the_cycle().result()

    assert reconciling.result() == {
        "contract_id": contract.pk,
        "skipped": False,
        "error": "deadlock detected",
    }
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert (status.is_pending, status.last_error) == (True, "deadlock detected")
    assert summary(products[0]) == (0, 0, 0, 0)
    error, table = _listed_error(run_command, contract.pk)
    assert error == "deadlock detected"
    assert "│ deadlock detected │" in table
    csv_out, _ = run_command("b2b_list", "contracts", "--format", "csv")
    [listed] = list(csv.DictReader(io.StringIO(csv_out)))
    assert listed["codes_error"] == "deadlock detected"

    assert reconcile_contract_codes_task.apply(args=[contract.pk]).get()["created"] == 3
    status.refresh_from_db()
    assert (status.is_pending, status.last_error) == (False, "")
    assert _listed_error(run_command, contract.pk)[0] is None


def test_a_command_caught_in_a_deadlock_says_so_on_one_line_and_changes_nothing(site_tree):
    contract, _ = contract_with_products(products=1, max_learners=3)
    ContractCodeStatus.objects.create(contract=contract)
    revisions = contract.revisions.count()
    other = OutOfOrderClient(contract.pk)
    env = {
        **{k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"},
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": "test-only-secret-key",
    }
    argv = ["b2b_contract", "modify", str(contract.pk), "--max-learners", "7"]
    command = subprocess.Popen(
        [sys.executable, "manage.py", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    other.close_the_cycle().result()
    out, err = command.communicate(timeout=60)

    assert command.returncode == 1
    assert out == ""
    assert err.splitlines() == [
        "CommandError: Nothing was changed: the database stopped this change because another "
        "one on the same rows ran at the same time (deadlock detected). Run it again."
    ]
    contract = ContractPage.objects.get(pk=contract.pk)
    assert (contract.max_learners, contract.revisions.count()) == (3, revisions)
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert (status.requested_version, status.last_error) == (0, "")
