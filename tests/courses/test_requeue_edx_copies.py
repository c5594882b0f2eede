"""Re-queuing Studio copies: the service and manage.py requeue_edx_copies."""

import io

import pytest
from django.core.management import CommandError, call_command

from courses.enums import EdxCopyState
from courses.exceptions import CopyNotRequested, OpenEdxNotConfigured
from courses.models import CourseRun
from courses.services.edx_copy import requeue_run_copies
from tests.courses.helpers import copy_state, make_contract_run, scheduled
from tests.support.factories import ContractPageFactory, CourseRunFactory
from tests.support.openedx_server import RUN_CLONE

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract_runs(site_tree, studio):
    """A contract with a created, a failed and a not-configured run, an assigned run without a
    source, and a failed run of another contract."""
    contract = ContractPageFactory()
    created = scheduled(make_contract_run(contract=contract, number="A1"))
    failed = scheduled(make_contract_run(contract=contract, number="B2"))
    unconfigured = scheduled(make_contract_run(contract=contract, number="C3"))
    CourseRun.objects.filter(pk=created.pk).update(edx_copy_state=EdxCopyState.CREATED)
    CourseRun.objects.filter(pk=failed.pk).update(
        edx_copy_state=EdxCopyState.FAILED, edx_copy_error="boom"
    )
    CourseRun.objects.filter(pk=unconfigured.pk).update(edx_copy_state=EdxCopyState.NOT_CONFIGURED)
    CourseRunFactory(b2b_contract=contract, run_tag="2025_T1")  # assigned: nothing to copy
    other = scheduled(make_contract_run(number="D4"))
    CourseRun.objects.filter(pk=other.pk).update(edx_copy_state=EdxCopyState.FAILED)
    for number in ("A1", "B2", "C3", "D4"):
        studio.add_studio_run(f"course-v1:UAI_SOURCE+{number}+SOURCE")
    return contract, created, failed, unconfigured


def test_requeue_failed_copies_of_a_contract(
    contract_runs, studio, django_capture_on_commit_callbacks
):
    contract, created, failed, unconfigured = contract_runs

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = requeue_run_copies(contract_id=contract.pk, failed_only=True)

    assert [run.courseware_id for run in queued] == [
        failed.courseware_id,
        unconfigured.courseware_id,
    ]
    assert len(callbacks) == 2
    assert copy_state(failed) == (EdxCopyState.CREATED, "", 1)
    assert copy_state(unconfigured) == (EdxCopyState.CREATED, "", 1)
    assert copy_state(created)[0] == EdxCopyState.CREATED
    assert {r.body["destination_course_id"] for r in studio.requests_to(RUN_CLONE)} == {
        failed.courseware_id,
        unconfigured.courseware_id,
    }


def test_requeue_all_copies_of_a_contract(contract_runs, django_capture_on_commit_callbacks):
    contract, created, failed, unconfigured = contract_runs

    with django_capture_on_commit_callbacks() as callbacks:
        queued = requeue_run_copies(contract_id=contract.pk)

    assert [run.courseware_id for run in queued] == [
        created.courseware_id,
        failed.courseware_id,
        unconfigured.courseware_id,
    ]
    assert len(callbacks) == 3
    assert {copy_state(run)[:2] for run in queued} == {(EdxCopyState.PENDING, "")}


def test_requeue_refusals(contract_runs, settings):
    contract, created, *_ = contract_runs
    assigned = CourseRun.objects.get(b2b_contract=contract, run_tag="2025_T1")

    with pytest.raises(CopyNotRequested):
        requeue_run_copies(courseware_id=assigned.courseware_id)
    assert requeue_run_copies(courseware_id=created.courseware_id, failed_only=True) == []
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET = None
    with pytest.raises(OpenEdxNotConfigured):
        requeue_run_copies(contract_id=contract.pk)


def run_command(*args) -> str:
    out = io.StringIO()
    call_command("requeue_edx_copies", *args, stdout=out)
    return out.getvalue()


def test_requeue_command(contract_runs, django_capture_on_commit_callbacks):
    contract, created, failed, unconfigured = contract_runs

    with django_capture_on_commit_callbacks() as callbacks:
        output = run_command("--contract", str(contract.pk), "--failed-only")
        one = run_command("--run", created.courseware_id)

    assert output == (
        "Queued 2 Open edX copies:\n"
        f"  {failed.courseware_id} (from course-v1:UAI_SOURCE+B2+SOURCE)\n"
        f"  {unconfigured.courseware_id} (from course-v1:UAI_SOURCE+C3+SOURCE)\n"
    )
    assert one == (
        "Queued 1 Open edX copy:\n"
        f"  {created.courseware_id} (from course-v1:UAI_SOURCE+A1+SOURCE)\n"
    )
    assert len(callbacks) == 3
    assert run_command("--run", created.courseware_id, "--failed-only") == (
        f"Nothing to queue: run {created.courseware_id} has no failed copies.\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contract", "999999"], "No contract with id 999999"),
        (["--run", "course-v1:NOPE+X+Y"], "No course run course-v1:NOPE+X+Y"),
        ([], "one of the arguments --contract --run is required"),
    ],
)
def test_requeue_command_errors(contract_runs, args, message):
    with pytest.raises(CommandError) as caught:
        run_command(*args)
    assert str(caught.value).endswith(message)


def test_requeue_command_without_settings(site_tree, no_openedx):
    contract = ContractPageFactory()
    with pytest.raises(CommandError) as caught:
        run_command("--contract", str(contract.pk))
    assert str(caught.value) == (
        "Open edX is not configured: set OPENEDX_API_BASE_URL, OPENEDX_STUDIO_API_BASE_URL, "
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID, OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET"
    )
