"""Queued Open edX work: run copies and enrollment pushes.

Each task takes ids and calls one service, which records the outcome on the row. Only
``OpenEdxTransientError`` is retried, with exponential backoff and a bounded count, and a
deadlock or serialization failure of the database (``config.db_errors``); any other error is
final. A task never raises an Open edX error: when tasks run eagerly (no broker), they
run inside the caller's request or command, which must not break because Open edX is down,
so an eager run makes one attempt, records the failure and stops.
"""

import logging
from datetime import timedelta

from django.conf import settings

from config.celery import app
from config.db_errors import GaveUp, with_conflict_retries
from courses.exceptions import CoursesError, OpenEdxError, OpenEdxTransientError
from courses.services.edx_copy import (
    COPY_TASK,
    SWEEP_TASK,
    copy_run_to_studio,
    requeue_stuck_copies,
)
from courses.services.enrollments import PUSH_TASK, push_enrollment_to_edx

log = logging.getLogger(__name__)


def retry_countdown(retries: int) -> int:
    """Seconds to wait before retry number ``retries + 1``: base * 2**retries, capped."""
    return min(
        settings.OPENEDX_RETRY_BACKOFF_SECONDS * 2**retries,
        settings.OPENEDX_RETRY_BACKOFF_MAX_SECONDS,
    )


def _is_final_attempt(task) -> bool:
    request = task.request
    return (
        request.is_eager
        or request.called_directly
        or request.retries >= settings.OPENEDX_MAX_RETRIES
    )


def _run_with_retries(task, service, object_id: int, what: str) -> str:
    final = _is_final_attempt(task)
    try:
        # A deadlock or serialization failure is retried apart from Open edX's errors.
        result = with_conflict_retries(
            task, lambda: service(object_id, final_attempt=final), what=f"{what} {object_id}"
        )
    except OpenEdxTransientError as exc:
        if final:
            return "failed"
        countdown = retry_countdown(task.request.retries)
        log.info("%s %s: retrying in %ss (%s)", what, object_id, countdown, exc)
        raise task.retry(
            exc=exc, countdown=countdown, max_retries=settings.OPENEDX_MAX_RETRIES
        ) from exc
    except OpenEdxError as exc:
        # Recorded on the row by the service; retrying will not help.
        log.warning("%s %s failed: %s", what, object_id, exc)
        return "failed"
    except CoursesError as exc:
        # Nothing to do: the row is gone, or it has nothing to send to Open edX.
        log.warning("%s %s skipped: %s", what, object_id, exc)
        return "skipped"
    if isinstance(result, GaveUp):
        return "pending"  # nothing was written: the row keeps its pending state
    return str(result)


@app.task(bind=True, name=COPY_TASK, acks_late=True)
def copy_run_to_studio_task(self, run_id: int) -> str:
    """Create or update the Studio copy of a contract run; returns the run's copy state."""
    return _run_with_retries(
        self,
        lambda pk, final_attempt: (
            copy_run_to_studio(pk, final_attempt=final_attempt).edx_copy_state
        ),
        run_id,
        "Open edX copy of run",
    )


@app.task(bind=True, name=PUSH_TASK, acks_late=True)
def push_enrollment_to_edx_task(self, enrollment_id: int) -> str:
    """Enroll the learner in Open edX; returns the enrollment's sync state."""
    return _run_with_retries(
        self,
        lambda pk, final_attempt: (
            push_enrollment_to_edx(pk, final_attempt=final_attempt).edx_sync_state
        ),
        enrollment_id,
        "Open edX enrollment",
    )


@app.task(name=SWEEP_TASK)
def requeue_stuck_edx_copies_task() -> list[str]:
    """Queue again the Open edX copies pending with no news for longer than
    OPENEDX_COPY_REQUEUE_AFTER_SECONDS (run by Celery beat); returns their run keys."""
    runs = requeue_stuck_copies(
        older_than=timedelta(seconds=settings.OPENEDX_COPY_REQUEUE_AFTER_SECONDS)
    )
    return [run.courseware_id for run in runs]
