"""Copies of contract runs in Open edX Studio.

A contract run is created in this site first (by the b2b services); its Studio copy is made
afterwards by a Celery task: the source run is cloned into the new key, then the copy gets the
run's title, pacing and schedule. The state of the copy is kept on the run
(``edx_copy_state``, ``edx_copy_error``, ``edx_copy_attempts``, ``edx_copy_updated_on``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from config.queueing import queue_after_commit
from courses import openedx
from courses.enums import EdxCopyState
from courses.exceptions import (
    CopyNotRequested,
    CourseRunNotFound,
    OpenEdxNotConfigured,
    OpenEdxRequestError,
)
from courses.models import CourseRun
from courses.services.edx_outcome import recorded_outcome

log = logging.getLogger(__name__)

# The registered name of the task that runs ``copy_run_to_studio`` (courses/tasks.py).
COPY_TASK = "courses.copy_run_to_studio"
# The registered name of the task that runs ``requeue_stuck_copies`` (Celery beat's schedule).
SWEEP_TASK = "courses.requeue_stuck_edx_copies"

# States a run can be re-queued from with ``failed_only``.
RETRYABLE_STATES = (EdxCopyState.FAILED, EdxCopyState.NOT_CONFIGURED)


def schedule_run_copy(run: CourseRun, *, source: CourseRun) -> None:
    """Request the Studio copy of ``run`` from ``source``; the copy is queued after commit.

    Called by the services that create contract runs, inside their transaction. Without the
    Open edX settings the run is marked "not configured" and nothing is queued.
    """
    configured = openedx.is_configured()
    run.edx_copy_source = source.courseware_id
    run.edx_copy_state = EdxCopyState.PENDING if configured else EdxCopyState.NOT_CONFIGURED
    run.edx_copy_error = "" if configured else openedx.not_configured_message()
    run.edx_copy_updated_on = timezone.now()
    run.save(
        update_fields=[
            "edx_copy_source",
            "edx_copy_state",
            "edx_copy_error",
            "edx_copy_updated_on",
            "updated_on",
        ]
    )
    if configured:
        queue_after_commit(COPY_TASK, run.pk)


def _record(run_id: int, *, state: EdxCopyState, error: str) -> None:
    now = timezone.now()
    CourseRun.objects.filter(pk=run_id).update(
        edx_copy_state=state, edx_copy_error=error, edx_copy_updated_on=now, updated_on=now
    )


def _copy(run: CourseRun) -> bool:
    """Make Studio's copy of ``run`` match it. Returns whether the clone was made now."""
    cloned = False
    if openedx.get_studio_course_run(run.courseware_id) is None:
        try:
            openedx.clone_studio_course_run(
                source_id=run.edx_copy_source, target_id=run.courseware_id
            )
            cloned = True
        except OpenEdxRequestError:
            # Studio refuses to clone onto an existing run: an earlier attempt whose answer
            # was lost, or a concurrent one, may have made it meanwhile.
            if openedx.get_studio_course_run(run.courseware_id) is None:
                raise
    openedx.update_studio_course_run(
        courseware_id=run.courseware_id,
        title=run.title,
        self_paced=run.is_self_paced,
        start=run.start_date,
        end=run.end_date,
        enrollment_start=run.enrollment_start,
        enrollment_end=run.enrollment_end,
    )
    return cloned


def copy_run_to_studio(run_id: int, *, final_attempt: bool = True) -> CourseRun:
    """Create (or bring up to date) the Studio copy of a contract run; safe to run again.

    If Studio already has the run, only its title, pacing and schedule are updated. The
    outcome is recorded on the run: created; failed with the error; or, for a transient error
    when another attempt will follow (``final_attempt=False``), still pending with the error.
    Open edX errors are re-raised after being recorded; missing settings are not an error:
    the run is marked "not configured".
    """
    run = CourseRun.objects.filter(pk=run_id).first()
    if run is None:
        raise CourseRunNotFound(f"Course run {run_id} does not exist")
    if not run.edx_copy_source:
        raise CopyNotRequested(f"Run {run.courseware_id} has no source run to copy in Open edX")
    if not openedx.is_configured():
        _record(run_id, state=EdxCopyState.NOT_CONFIGURED, error=openedx.not_configured_message())
        run.refresh_from_db()
        return run

    CourseRun.objects.filter(pk=run_id).update(edx_copy_attempts=F("edx_copy_attempts") + 1)
    with recorded_outcome(
        partial(_record, run_id),
        done=EdxCopyState.CREATED,
        final_attempt=final_attempt,
        what=f"Open edX copy of {run.courseware_id}",
    ):
        cloned = _copy(run)
        log.info(
            "Open edX copy of %s %s",
            run.courseware_id,
            f"cloned from {run.edx_copy_source}" if cloned else "already existed; updated",
        )
    run.refresh_from_db()
    return run


def requeue_run_copies(
    *,
    contract_id: int | None = None,
    courseware_id: str | None = None,
    failed_only: bool = False,
) -> list[CourseRun]:
    """Queue the Studio copy again for a contract's runs, or for one run; returns the runs.

    Only runs that have a source to copy from are considered; with ``failed_only``, only those
    whose copy failed or could not run for lack of settings. Copies are idempotent, so
    re-queuing a run that Studio already has just re-applies its title and schedule.
    """
    if (contract_id is None) == (courseware_id is None):
        raise ValueError("give exactly one of contract_id and courseware_id")
    if not openedx.is_configured():
        raise OpenEdxNotConfigured(openedx.not_configured_message())

    with transaction.atomic():
        runs = CourseRun.objects.select_for_update(no_key=True).order_by("id")
        if courseware_id is not None:
            run = runs.filter(courseware_id=courseware_id).first()
            if run is None:
                raise CourseRunNotFound(f"No course run {courseware_id}")
            if not run.edx_copy_source:
                raise CopyNotRequested(f"Run {courseware_id} has no source run to copy in Open edX")
            selected = [run]
        else:
            selected = list(runs.filter(b2b_contract_id=contract_id).exclude(edx_copy_source=""))
        if failed_only:
            selected = [run for run in selected if run.edx_copy_state in RETRYABLE_STATES]
        if not selected:
            return []
        now = timezone.now()
        CourseRun.objects.filter(pk__in=[run.pk for run in selected]).update(
            edx_copy_state=EdxCopyState.PENDING,
            edx_copy_error="",
            edx_copy_updated_on=now,
            updated_on=now,
        )
        for run in selected:
            run.edx_copy_state = EdxCopyState.PENDING
            run.edx_copy_error = ""
            run.edx_copy_updated_on = now
            queue_after_commit(COPY_TASK, run.pk)
    return selected


def requeue_stuck_copies(*, older_than: timedelta) -> list[CourseRun]:
    """Queue again the copies still pending with no news (no attempt recorded) for at least
    ``older_than``; returns their runs.

    A copy can be lost after it was requested: the broker was down when it was to be queued, a
    worker died while running it, or the broker restarted without its queue. A copy waiting for
    its next retry is pending too, but its last attempt is recent. Copies are idempotent, so
    queuing one twice only repeats its last step.
    """
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        stuck = list(
            CourseRun.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(edx_copy_state=EdxCopyState.PENDING)
            .exclude(edx_copy_source="")
            .filter(Q(edx_copy_updated_on__isnull=True) | Q(edx_copy_updated_on__lte=cutoff))
            .order_by("id")
        )
        now = timezone.now()
        CourseRun.objects.filter(pk__in=[run.pk for run in stuck]).update(edx_copy_updated_on=now)
        for run in stuck:
            run.edx_copy_updated_on = now
            queue_after_commit(COPY_TASK, run.pk)
    if stuck:
        log.info(
            "Queued again %s stuck Open edX cop%s: %s",
            len(stuck),
            "y" if len(stuck) == 1 else "ies",
            ", ".join(run.courseware_id for run in stuck),
        )
    return stuck
