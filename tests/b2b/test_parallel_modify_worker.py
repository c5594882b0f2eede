"""Six operators changing one contract's cap at once while a real worker reconciles its codes.

Each operator is a process of its own with its own database connection (tests/support/commands.py
runs ``b2b_contract modify`` there, as manage.py would), queueing to Redis like a production
command; a real ``celery worker`` reconciles. Five rounds: every command succeeds, the worker
never meets a deadlock or retries, PostgreSQL counts no deadlock, and the codes end exactly at
the final cap on every product.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from b2b.models import ContractCodeStatus, ContractPage
from tests.b2b.helpers import contract_with_products, reconcile, summary
from tests.support.databases import database_url_for_subprocess, deadlocks_so_far

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = 4
ROUNDS = [
    (300, 120, 50, 250, 180, 90),
    (70, 310, 200, 30, 150, 260),
    (400, 10, 220, 330, 80, 140),
    (5, 280, 190, 360, 40, 230),
    (210, 350, 60, 170, 390, 110),
]


class Operator:
    """A process that runs the commands it is given (tests/support/commands.py)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.commands"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, *argv: str) -> None:
        self.process.stdin.write(json.dumps(argv) + "\n")
        self.process.stdin.flush()

    def answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the operator process ended (code {self.process.wait()})")
        return json.loads(line)

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def operators(redis_url):
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_BROKER_URL": redis_url,
        "SECRET_KEY": "test-only-secret-key",
        "LOG_LEVEL": "INFO",
    }
    started = [Operator(env) for _ in range(6)]
    try:
        for operator in started:
            assert operator.answer() == {"ready": True}
        yield started
    finally:
        for operator in started:
            operator.stop()


def _wait_until_reconciled(contract_id: int, timeout: float = 60) -> ContractCodeStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = ContractCodeStatus.objects.get(pk=contract_id)
        if not status.is_pending or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_six_parallel_modify_with_a_worker_reconciling(
    site_tree, celery_worker_process, celery_worker_log, operators
):
    contract, products = contract_with_products(products=PRODUCTS, max_learners=100)
    reconcile(contract)
    deadlocks_before = deadlocks_so_far()

    answers = []
    for caps in ROUNDS:
        for operator, cap in zip(operators, caps, strict=True):
            operator.send("b2b_contract", "modify", str(contract.pk), "--max-learners", str(cap))
        answers += [operator.answer() for operator in operators]

    for answer in answers:
        assert answer["error"] is None, answer
        assert answer["stderr"] == "", answer
        assert [line for line in answer["log"] if "WARNING" in line or "ERROR" in line] == []
    status = _wait_until_reconciled(contract.pk)
    assert (status.is_pending, status.last_error) == (False, "")
    final_cap = ContractPage.objects.get(pk=contract.pk).max_learners
    assert final_cap in {caps[i] for caps in ROUNDS for i in range(6)}
    for product in products:
        usable, unlimited, _deactivated, redeemed = summary(product)
        assert (usable, unlimited, redeemed) == (final_cap, 0, 0)
    worker_output = celery_worker_log.read_text()
    assert "succeeded" in worker_output
    # The worker's log after its start-up banner (which lists task names, some with "retry").
    worker_log = worker_output.partition("[tasks]")[2].partition("\n\n")[2]
    assert "succeeded" in worker_log
    for trouble in ("deadlock", "Retry", "retry", "ERROR", "raised unexpected"):
        assert trouble not in worker_log
    assert deadlocks_so_far() == deadlocks_before
