"""Course run enrollments, and their push to Open edX.

``enroll_learner`` records the enrollment here and queues the push after commit; the push
(``push_enrollment_to_edx``, run by a Celery task) enrolls the learner in the Open edX run and
records the outcome on the enrollment (``edx_sync_state``, ``edx_sync_error``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from config.queueing import queue_after_commit
from courses import openedx
from courses.enums import EdxSyncState, EnrollmentMode
from courses.exceptions import CoursesError, OpenEdxNotConfigured
from courses.models import CourseRun, CourseRunEnrollment
from courses.selectors import unpushed_enrollment_ids
from courses.services.edx_outcome import recorded_outcome
from users.models import User

log = logging.getLogger(__name__)

# The registered name of the task that runs ``push_enrollment_to_edx`` (courses/tasks.py).
PUSH_TASK = "courses.push_enrollment_to_edx"

# The mode an enrollment never goes down from.
_MODE_RANK = {EnrollmentMode.AUDIT: 0, EnrollmentMode.VERIFIED: 1}


class EnrollmentNotFound(CoursesError):
    pass


def enrollment_mode(*, run: CourseRun, price: Decimal | None) -> EnrollmentMode:
    """The mode of an enrollment in ``run`` for which the learner pays ``price``.

    The one rule for every way in. A contract's run is verified whatever the learner paid ($0
    code, priced code, dashboard): the contract covers the seat. Any other run is verified when
    paid for and audit when free.
    """
    if run.b2b_contract_id is not None:
        return EnrollmentMode.VERIFIED
    return EnrollmentMode.VERIFIED if price is not None and price > 0 else EnrollmentMode.AUDIT


def enroll_learner(*, user: User, run: CourseRun, mode: EnrollmentMode) -> CourseRunEnrollment:
    """Enroll ``user`` in ``run`` here, and in Open edX after commit (``enroll_learner_in_runs``
    for one run)."""
    (enrollment,) = enroll_learner_in_runs(user=user, modes={run: mode})
    return enrollment


def _target_mode(enrollment: CourseRunEnrollment, mode: EnrollmentMode) -> EnrollmentMode:
    return max(mode, EnrollmentMode(enrollment.mode), key=_MODE_RANK.__getitem__)


def enroll_learner_in_runs(
    *, user: User, modes: Mapping[CourseRun, EnrollmentMode]
) -> list[CourseRunEnrollment]:
    """Enroll ``user`` in each run of ``modes`` in its mode, here and in Open edX after commit;
    returns the enrollments in the order of ``modes``.

    One enrollment per learner and run: an existing one is reactivated and its mode raised
    (audit to verified; never lowered). Nothing is sent again for an enrollment that is
    already active, in that mode and synced. Set-based: the same few statements for any number
    of runs (an order of many courses), with the enrollment rows locked until the caller's
    transaction ends.
    """
    wanted = {run.pk: EnrollmentMode(mode) for run, mode in modes.items()}
    configured = openedx.is_configured()
    sync_state = EdxSyncState.PENDING if configured else EdxSyncState.NOT_CONFIGURED
    sync_error = "" if configured else openedx.not_configured_message()
    with transaction.atomic():
        # Missing rows are inserted as wanted; a row that exists (or that a parallel request
        # inserts first) is left to the update below.
        CourseRunEnrollment.objects.bulk_create(
            [
                CourseRunEnrollment(
                    user=user,
                    run_id=run_id,
                    mode=mode,
                    active=True,
                    edx_sync_state=sync_state,
                    edx_sync_error=sync_error,
                )
                for run_id, mode in wanted.items()
            ],
            ignore_conflicts=True,
        )
        rows = {
            row.run_id: row
            for row in CourseRunEnrollment.objects.select_for_update().filter(
                user=user, run_id__in=wanted
            )
        }
        to_push, to_save = [], []
        now = timezone.now()
        for run_id, mode in wanted.items():
            enrollment = rows[run_id]
            new_mode = _target_mode(enrollment, mode)
            unchanged = (
                enrollment.active
                and new_mode == enrollment.mode
                and enrollment.edx_sync_state == EdxSyncState.SYNCED
            )
            if unchanged:
                continue
            target = (True, new_mode, sync_state, sync_error)
            current = (
                enrollment.active,
                enrollment.mode,
                enrollment.edx_sync_state,
                enrollment.edx_sync_error,
            )
            if current != target:  # a row just inserted is already as wanted
                enrollment.active, enrollment.mode = True, new_mode
                enrollment.edx_sync_state, enrollment.edx_sync_error = sync_state, sync_error
                enrollment.updated_on = now
                to_save.append(enrollment)
            to_push.append(enrollment.pk)
        CourseRunEnrollment.objects.bulk_update(
            to_save, ["active", "mode", "edx_sync_state", "edx_sync_error", "updated_on"]
        )
        if configured:
            for enrollment_id in to_push:
                queue_after_commit(PUSH_TASK, enrollment_id)
    for run in modes:
        rows[run.pk].run = run
    return [rows[run.pk] for run in modes]


def _record(enrollment_id: int, *, state: EdxSyncState, error: str) -> None:
    CourseRunEnrollment.objects.filter(pk=enrollment_id).update(
        edx_sync_state=state, edx_sync_error=error, updated_on=timezone.now()
    )


def push_enrollment_to_edx(
    enrollment_id: int, *, final_attempt: bool = True
) -> CourseRunEnrollment:
    """Enroll the learner in the Open edX run, in the enrollment's mode; safe to run again.

    The outcome is recorded on the enrollment: synced; failed with the error; or, for a
    transient error when another attempt will follow (``final_attempt=False``), still pending
    with the error. Open edX errors are re-raised after being recorded. Without the Open edX
    settings the enrollment is marked "not configured". An inactive enrollment is left alone.
    """
    enrollment = (
        CourseRunEnrollment.objects.select_related("user", "run").filter(pk=enrollment_id).first()
    )
    if enrollment is None:
        raise EnrollmentNotFound(f"Enrollment {enrollment_id} does not exist")
    if not enrollment.active:
        return enrollment
    where = f"{enrollment.user.email} in {enrollment.run.courseware_id}"
    with recorded_outcome(
        partial(_record, enrollment_id),
        done=EdxSyncState.SYNCED,
        final_attempt=final_attempt,
        what=f"Open edX enrollment of {where}",
    ):
        answer = openedx.create_enrollment(
            email=enrollment.user.email,
            courseware_id=enrollment.run.courseware_id,
            mode=enrollment.mode,
        )
        log.info("Enrolled %s in Open edX (%s)", where, enrollment.mode)
        _record_edx_username(enrollment, answer.user)
    enrollment.refresh_from_db()
    return enrollment


def _record_edx_username(enrollment: CourseRunEnrollment, username: object) -> None:
    """Keep the Open edX username the push answered with: the progress sync maps Open edX's
    learners to ours by it. An answer without one changes nothing."""
    if isinstance(username, str) and username and username != enrollment.edx_username:
        CourseRunEnrollment.objects.filter(pk=enrollment.pk).update(edx_username=username[:150])


def requeue_enrollment_pushes(*, run_ids: list[int], pending_before: datetime) -> int:
    """Queue the push again for the active enrollments of these runs whose push failed or has
    been pending since before ``pending_before`` (``courses.selectors.unpushed_enrollments``);
    returns how many. Pushes are idempotent: Open edX keeps one enrollment per learner and run.
    """
    if not openedx.is_configured():
        raise OpenEdxNotConfigured(openedx.not_configured_message())
    ids = unpushed_enrollment_ids(run_ids=run_ids, pending_before=pending_before)
    with transaction.atomic():
        CourseRunEnrollment.objects.filter(pk__in=ids).update(
            edx_sync_state=EdxSyncState.PENDING, edx_sync_error="", updated_on=timezone.now()
        )
        for enrollment_id in ids:
            queue_after_commit(PUSH_TASK, enrollment_id)
    return len(ids)
