"""Helpers of the course tests: contract runs to copy to Studio (the copy and re-queue tests)."""

from datetime import UTC, datetime

from courses.enums import EdxCopyState
from courses.models import CourseRun
from tests.support.factories import ContractPageFactory, CourseFactory, CourseRunFactory

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
SCHEDULE = {
    "start": "2026-03-01T00:00:00+00:00",
    "end": "2026-12-31T23:59:00+00:00",
    "enrollment_start": "2026-03-01T00:00:00+00:00",
    "enrollment_end": "2026-12-31T23:59:00+00:00",
}


def make_contract_run(*, contract=None, number="ML101", end=END, **fields) -> CourseRun:
    """A source run and a contract run that should be copied from it (not yet scheduled)."""
    course = CourseFactory(readable_id=f"course-v1:UAI_SOURCE+{number}", title="Machine learning")
    CourseRunFactory(course=course)
    contract = contract or ContractPageFactory()
    return CourseRunFactory(
        course=course,
        run_tag=f"2026_C{contract.pk}",
        courseware_id=f"course-v1:UAI_ACME+{number}+2026_C{contract.pk}",
        title="Machine learning",
        b2b_contract=contract,
        start_date=START,
        end_date=end,
        enrollment_start=START,
        enrollment_end=end,
        **fields,
    )


def source_of(run: CourseRun) -> CourseRun:
    return CourseRun.objects.get(course=run.course, run_tag="SOURCE")


def scheduled(run: CourseRun) -> CourseRun:
    """The run with its copy requested, as the b2b services leave it (callback not run)."""
    run.edx_copy_source = source_of(run).courseware_id
    run.edx_copy_state = EdxCopyState.PENDING
    run.save()
    return run


def copy_state(run: CourseRun) -> tuple:
    run.refresh_from_db()
    return run.edx_copy_state, run.edx_copy_error, run.edx_copy_attempts
