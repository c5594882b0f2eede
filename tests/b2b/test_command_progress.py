"""A long command shows how far it is also when its output is not a terminal: a plain line
``<step>: <done>/<total>`` when a step starts, at most every few seconds, and at the end."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from b2b.management.rendering import TerminalProgress
from b2b.models import ContractPage
from ecommerce.models import Discount
from tests.support import factories as f
from tests.support.databases import database_url_for_subprocess

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_line_every_interval_and_the_total():
    stream, clock = io.StringIO(), Clock()
    with TerminalProgress(stream, clock=clock, interval=5) as progress:
        for done, seconds in [(10, 0), (20, 2), (30, 4.9), (40, 5.1), (50, 6), (60, 11)]:
            clock.now = 100 + seconds
            progress("Creating codes", done, 100)
        progress("Creating codes", 100, 100)  # complete: written whatever the time
        progress("Creating codes", 100, 100)  # and only once
        progress("Inviting", 1, 3)  # another step starts with a line of its own
    assert stream.getvalue() == (
        "Creating codes: 10/100\n"
        "Creating codes: 40/100\n"
        "Creating codes: 60/100\n"
        "Creating codes: 100/100\n"
        "Inviting: 1/3\n"
    )


def test_the_interval_comes_from_the_settings(settings):
    settings.B2B_PROGRESS_LINE_SECONDS = 0
    stream = io.StringIO()
    with TerminalProgress(stream, clock=Clock()) as progress:
        for done in (1, 2, 3):
            progress("Creating codes", done, 3)
    assert stream.getvalue() == "Creating codes: 1/3\nCreating codes: 2/3\nCreating codes: 3/3\n"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_courseware_piped_to_a_log_prints_growing_counts_and_the_total(site_tree):
    course = f.CourseFactory(readable_id="course-v1:UAI_SOURCE+LOGGED")
    f.CourseRunFactory(course=course)
    org = f.OrganizationPageFactory(title="Logged University")
    contract = f.ContractPageFactory(parent=org, title="Logged", max_learners=50)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": "test-only-secret-key",
        "B2B_CODE_BATCH_SIZE": "10",
        "B2B_PROGRESS_LINE_SECONDS": "0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "b2b_contract", "courseware", str(contract.pk),
         course.readable_id],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"Creating codes: {n}/50" for n in (10, 20, 30, 40, 50)]
    assert Discount.objects.filter(product_links__product__is_active=True).count() == 50
    assert ContractPage.objects.get(pk=contract.pk).title == "Logged"
