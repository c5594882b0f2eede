"""Enrollments: recorded here, pushed to Open edX after commit, outcome kept on the row."""

from decimal import Decimal

import pytest

from courses.enums import EdxSyncState, EnrollmentMode
from courses.exceptions import OpenEdxTransientError
from courses.models import CourseRunEnrollment
from courses.services.enrollments import enroll_learner, enrollment_mode, push_enrollment_to_edx
from courses.tasks import push_enrollment_to_edx_task
from tests.support.factories import (
    ContractPageFactory,
    CourseRunEnrollmentFactory,
    CourseRunFactory,
    UserFactory,
)
from tests.support.openedx_server import ENROLLMENT, TOKEN, Failure

pytestmark = pytest.mark.django_db


@pytest.fixture
def lms(openedx_server):
    """The fake Open edX, knowing the learner ada@example.com and the run."""
    openedx_server.add_user("ada@example.com", "ada")
    openedx_server.add_studio_run("course-v1:UAI_ACME+ML101+2026_C3")
    return openedx_server


@pytest.fixture
def learner():
    return UserFactory(email="ada@example.com")


@pytest.fixture
def run():
    return CourseRunFactory(courseware_id="course-v1:UAI_ACME+ML101+2026_C3", run_tag="2026_C3")


def sync_state(enrollment: CourseRunEnrollment) -> tuple:
    enrollment.refresh_from_db()
    return enrollment.mode, enrollment.active, enrollment.edx_sync_state, enrollment.edx_sync_error


@pytest.mark.parametrize(
    ("price", "mode"),
    [
        (None, EnrollmentMode.AUDIT),
        (Decimal("0.00"), EnrollmentMode.AUDIT),
        (Decimal("0.01"), EnrollmentMode.VERIFIED),
        (Decimal("250.00"), EnrollmentMode.VERIFIED),
    ],
)
def test_enrollment_mode_outside_contracts_follows_the_price(price, mode):
    assert enrollment_mode(run=CourseRunFactory.build(), price=price) == mode


@pytest.mark.parametrize("price", [None, Decimal("0.00"), Decimal("250.00")])
def test_enrollment_mode_in_a_contract_run_is_verified(price):
    run = CourseRunFactory.build(b2b_contract=ContractPageFactory())
    assert enrollment_mode(run=run, price=price) == EnrollmentMode.VERIFIED


def test_enrollment_is_pushed_after_commit(lms, learner, run, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        enrollment = enroll_learner(user=learner, run=run, mode=EnrollmentMode.AUDIT)
        assert sync_state(enrollment) == ("audit", True, EdxSyncState.PENDING, "")
    assert lms.requests == []
    assert len(callbacks) == 1
    callbacks[0]()

    assert sync_state(enrollment) == ("audit", True, EdxSyncState.SYNCED, "")
    [token_request, request] = lms.requests
    assert token_request.endpoint == TOKEN
    assert (request.service, request.method, request.path) == (
        "lms",
        "POST",
        "/api/enrollment/v1/enrollment",
    )
    assert request.authorization == f"JWT {lms.issued_tokens[0]}"
    assert request.body == {
        "email": "ada@example.com",
        "mode": "audit",
        "is_active": True,
        "course_details": {"course_id": "course-v1:UAI_ACME+ML101+2026_C3"},
        "force_enrollment": True,
    }
    assert lms.enrollments[("ada", "course-v1:UAI_ACME+ML101+2026_C3")]["mode"] == "audit"


def test_paid_enrollment_is_verified(lms, learner, run, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mode = enrollment_mode(run=run, price=Decimal("49"))
        enrollment = enroll_learner(user=learner, run=run, mode=mode)

    assert sync_state(enrollment) == ("verified", True, EdxSyncState.SYNCED, "")
    assert lms.requests_to(ENROLLMENT)[0].body["mode"] == "verified"


def test_enrolling_again_reuses_the_enrollment_and_sends_nothing_new(
    lms, learner, run, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = enroll_learner(user=learner, run=run, mode=EnrollmentMode.AUDIT)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = enroll_learner(user=learner, run=run, mode=EnrollmentMode.AUDIT)

    assert again.pk == first.pk
    assert CourseRunEnrollment.objects.filter(user=learner, run=run).count() == 1
    assert callbacks == []
    assert len(lms.requests_to(ENROLLMENT)) == 1


def test_inactive_enrollment_is_reactivated_and_pushed(
    lms, learner, run, django_capture_on_commit_callbacks
):
    existing = CourseRunEnrollmentFactory(
        user=learner, run=run, active=False, edx_sync_state=EdxSyncState.SYNCED
    )

    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enroll_learner(user=learner, run=run, mode=EnrollmentMode.AUDIT)

    assert enrollment.pk == existing.pk
    assert sync_state(enrollment) == ("audit", True, EdxSyncState.SYNCED, "")
    assert len(lms.requests_to(ENROLLMENT)) == 1


def test_mode_is_raised_but_never_lowered(lms, learner, run, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enroll_learner(user=learner, run=run, mode=EnrollmentMode.AUDIT)
    with django_capture_on_commit_callbacks(execute=True):
        enroll_learner(user=learner, run=run, mode=EnrollmentMode.VERIFIED)
    assert sync_state(enrollment) == ("verified", True, EdxSyncState.SYNCED, "")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enroll_learner(user=learner, run=run, mode=EnrollmentMode.AUDIT)

    assert callbacks == []
    assert sync_state(enrollment)[0] == "verified"
    assert [r.body["mode"] for r in lms.requests_to(ENROLLMENT)] == ["audit", "verified"]


def test_unknown_learner_fails_without_retry(lms, run, django_capture_on_commit_callbacks):
    stranger = UserFactory(email="stranger@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enroll_learner(user=stranger, run=run, mode=EnrollmentMode.AUDIT)

    assert sync_state(enrollment) == (
        "audit",
        True,
        EdxSyncState.FAILED,
        "Enrolling stranger@example.com in course-v1:UAI_ACME+ML101+2026_C3: Open edX answered "
        '406: {"message": "The user with the email address stranger@example.com does not '
        'exist."}',
    )
    assert len(lms.requests_to(ENROLLMENT)) == 1
    assert CourseRunEnrollment.objects.get(pk=enrollment.pk).active is True


def test_lms_outage_is_recorded_and_a_later_push_succeeds(lms, learner, run):
    enrollment = CourseRunEnrollmentFactory(user=learner, run=run)
    lms.fail(ENROLLMENT, Failure(503, "<html>Service Unavailable</html>"))

    with pytest.raises(OpenEdxTransientError):
        push_enrollment_to_edx(enrollment.pk, final_attempt=False)
    assert sync_state(enrollment)[2:] == (
        EdxSyncState.PENDING,
        "Enrolling ada@example.com in course-v1:UAI_ACME+ML101+2026_C3: Open edX answered 503: "
        "<html>Service Unavailable</html> (will retry)",
    )

    assert push_enrollment_to_edx_task.delay(enrollment.pk).get() == "synced"
    assert sync_state(enrollment)[2:] == (EdxSyncState.SYNCED, "")


def test_eager_push_records_an_outage_without_raising(lms, learner, run):
    enrollment = CourseRunEnrollmentFactory(user=learner, run=run)
    lms.fail(ENROLLMENT, Failure(502, "Bad Gateway"))

    assert push_enrollment_to_edx_task.delay(enrollment.pk).get() == "failed"

    assert sync_state(enrollment)[2:] == (
        EdxSyncState.FAILED,
        "Enrolling ada@example.com in course-v1:UAI_ACME+ML101+2026_C3: Open edX answered 502: "
        "Bad Gateway",
    )
    assert len(lms.requests_to(ENROLLMENT)) == 1


def test_without_settings_nothing_is_queued(
    settings, learner, run, django_capture_on_commit_callbacks
):
    settings.OPENEDX_API_BASE_URL = None
    settings.OPENEDX_STUDIO_API_BASE_URL = "https://studio.example.edu/"
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID = "id"
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET = "secret"

    with django_capture_on_commit_callbacks() as callbacks:
        enrollment = enroll_learner(user=learner, run=run, mode=EnrollmentMode.AUDIT)

    assert callbacks == []
    assert sync_state(enrollment) == (
        "audit",
        True,
        EdxSyncState.NOT_CONFIGURED,
        "Open edX is not configured: set OPENEDX_API_BASE_URL",
    )
    assert push_enrollment_to_edx_task.delay(enrollment.pk).get() == "not_configured"


def test_inactive_enrollment_is_not_pushed(lms, learner, run):
    enrollment = CourseRunEnrollmentFactory(user=learner, run=run, active=False)

    assert push_enrollment_to_edx_task.delay(enrollment.pk).get() == "pending"
    assert lms.requests == []
