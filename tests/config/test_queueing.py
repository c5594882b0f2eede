"""Work queued after commit (config/queueing.py), as an operator's command meets it: with a
broker that is down, and with a real worker on Redis."""

import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from b2b.models import ContractCodeStatus, ContractPage
from courses.enums import EdxCopyState
from courses.models import CourseRun
from tests.b2b.helpers import summary
from tests.support import factories as f
from tests.support.databases import database_url_for_subprocess

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _closed_port() -> int:
    """A loopback port nothing listens on: a broker that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(*argv: str, broker: str | None, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py as an operator would, against the test database and ``broker`` (none:
    tasks run in the command's process)."""
    environment = {
        **{k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"},
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": "test-only-secret-key",
        **env,
    }
    if broker is not None:
        environment["CELERY_BROKER_URL"] = broker
    return subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_broker_down_after_commit_keeps_the_change_and_logs_one_line(site_tree):
    contract = f.ContractPageFactory(max_learners=10)

    result = _manage(
        "b2b_contract",
        "modify",
        str(contract.pk),
        "--max-learners",
        "20",
        broker=f"redis://127.0.0.1:{_closed_port()}/0",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Changed max_learners: 10 -> 20",
        "Enrollment codes are pending: the queue could not be reached. The periodic sweep "
        f"queues them again once it is back, or run `b2b_contract sync-codes {contract.pk}` now.",
    ]
    (line,) = result.stderr.splitlines()
    assert f"Could not queue b2b.reconcile_contract_codes({contract.pk}) after commit" in line
    assert "Connection refused" in line
    assert ContractPage.objects.get(pk=contract.pk).max_learners == 20
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert (status.requested_version, status.reconciled_version) == (1, 0)
    assert status.pending_since is not None


def test_broker_down_create_reports_the_contract_once_and_pending_codes(site_tree):
    org = f.OrganizationPageFactory(title="Beta Corp", org_key="BETACORP")
    broker = f"redis://127.0.0.1:{_closed_port()}/0"
    argv = ("b2b_contract", "create", "Beta Corp", "Redis Down", "non-sso", "--max-learners", "5")

    first = _manage(*argv, broker=broker)

    assert first.returncode == 0, first.stderr
    contract = ContractPage.objects.get(title="Redis Down")
    assert first.stdout.splitlines() == [
        f"Created contract Redis Down (id {contract.pk}, slug redis-down) "
        f"for organization Beta Corp (id {org.pk})",
        "Enrollment codes are pending: the queue could not be reached. The periodic sweep "
        f"queues them again once it is back, or run `b2b_contract sync-codes {contract.pk}` now.",
    ]
    (line,) = first.stderr.splitlines()
    assert f"Could not queue b2b.reconcile_contract_codes({contract.pk}) after commit" in line
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert (status.requested_version, status.reconciled_version) == (1, 0)

    # The operator, unsure, runs it again: refused on one line, nothing added.
    again = _manage(*argv, broker=broker)
    assert again.returncode == 1
    assert (again.stdout, again.stderr.splitlines()) == (
        "",
        [
            "CommandError: Organization 'Beta Corp' already has a contract named "
            f"'Redis Down' (id {contract.pk})"
        ],
    )
    assert ContractPage.objects.filter(title="Redis Down").count() == 1


def test_broker_down_leaves_the_open_edx_copy_pending(site_tree):
    contract = f.ContractPageFactory()
    course = f.CourseFactory(readable_id="course-v1:UAI_SOURCE+ML101")
    f.CourseRunFactory(course=course)

    result = _manage(
        "b2b_contract",
        "courseware",
        str(contract.pk),
        course.readable_id,
        broker=f"redis://127.0.0.1:{_closed_port()}/0",
        # Configured, so a copy is queued; nothing ever calls these addresses.
        OPENEDX_API_BASE_URL="http://127.0.0.1:9/",
        OPENEDX_STUDIO_API_BASE_URL="http://127.0.0.1:9/",
        OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID="id",
        OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET="secret",
    )

    assert result.returncode == 0, result.stderr
    run = CourseRun.objects.get(b2b_contract=contract)
    assert f"Created run {run.courseware_id}" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "Enrollment codes are pending: the queue could not be reached. The periodic sweep "
        f"queues them again once it is back, or run `b2b_contract sync-codes {contract.pk}` now."
    )
    assert (run.edx_copy_state, run.edx_copy_attempts) == (EdxCopyState.PENDING, 0)
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert f"Could not queue courses.copy_run_to_studio({run.pk}) after commit" in lines[0]
    assert f"Could not queue b2b.reconcile_contract_codes({contract.pk}) after commit" in lines[1]


def test_without_a_broker_the_command_runs_the_queued_work_itself(site_tree):
    contract = f.ContractPageFactory(max_learners=10)
    run = f.CourseRunFactory(b2b_contract=contract, run_tag="2026_C1")
    product = f.ProductFactory(purchasable_object=run, price=Decimal("0.00"))

    result = _manage("b2b_contract", "modify", str(contract.pk), "--max-learners", "3", broker=None)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Changed max_learners: 10 -> 3",
        "Enrollment codes were brought up to date.",
    ]
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert (status.requested_version, status.reconciled_version) == (1, 1)
    assert summary(product) == (3, 0, 0, 0)


@pytest.mark.redis
def test_command_queues_by_name_to_a_real_worker(site_tree, celery_worker_process, redis_url):
    contract = f.ContractPageFactory(max_learners=10)
    run = f.CourseRunFactory(b2b_contract=contract, run_tag="2026_C1")
    product = f.ProductFactory(purchasable_object=run, price=Decimal("0.00"))

    result = _manage(
        "b2b_contract", "modify", str(contract.pk), "--max-learners", "3", broker=redis_url
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    deadline = time.monotonic() + 60
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    while status.reconciled_version != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
        status.refresh_from_db()
    assert (status.requested_version, status.reconciled_version) == (1, 1)
    assert status.pending_since is None
    assert summary(product) == (3, 0, 0, 0)
