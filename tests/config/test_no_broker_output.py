"""With no broker configured, commands run their queued work in-process and print no broker noise.

Each command runs in a child process, as an operator runs it, on the test database.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from b2b.models import ContractPage
from ecommerce.models import Discount
from tests.support import factories as f
from tests.support.databases import database_url_for_subprocess

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]


def _manage(*argv: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": "test-only-secret-key",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_commands_that_queue_work_eagerly_print_nothing_on_stderr(site_tree):
    course = f.CourseFactory(readable_id="course-v1:UAI_SOURCE+QUIET1")
    f.CourseRunFactory(course=course)

    created = _manage(
        "b2b_contract", "create", "Quiet University", "Quiet", "non-sso", "--create",
        "--max-learners", "2",
    )  # fmt: skip
    assert (created.returncode, created.stderr) == (0, ""), created.stderr
    contract = ContractPage.objects.get(title="Quiet")

    courseware = _manage("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    # No broker noise: only the reconciliation's own progress (tests/b2b/test_command_progress.py).
    assert (courseware.returncode, courseware.stderr) == (0, "Creating codes: 2/2\n")
    # The reconciliation really ran, in the command's own process.
    assert Discount.objects.filter(product_links__product__is_active=True).count() == 2

    listed = _manage("b2b_list", "organizations")
    assert (listed.returncode, listed.stderr) == (0, ""), listed.stderr
    assert "Quiet University" in listed.stdout
