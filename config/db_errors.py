"""Database errors as the project reports them: on one line, and whether trying again may help.

PostgreSQL aborts a transaction when it finds a deadlock (SQLSTATE 40P01) or cannot serialize
it (40001): nothing of it was written, and the same work started again normally succeeds. Tasks
retry those (``with_conflict_retries``); operator commands say so in one line. Any other
database error is not "transient" here.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.db import DatabaseError

if TYPE_CHECKING:  # only for the annotation: operator commands use this module, not Celery
    from celery import Task

log = logging.getLogger(__name__)

T = TypeVar("T")

# SQLSTATE codes of the errors after which the same transaction may simply be run again.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def first_line(exc: BaseException) -> str:
    """The first line of the error's message (PostgreSQL adds DETAIL, HINT and CONTEXT lines),
    or the error's type when it has no message."""
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


def one_line(exc: BaseException) -> str:
    """The error on one line: a database error's own first line, otherwise "Type: message"."""
    if isinstance(exc, DatabaseError):
        return first_line(exc)
    message = first_line(exc)
    name = type(exc).__name__
    return message if message == name else f"{name}: {message}"


def transient_db_error(exc: BaseException) -> str | None:
    """The reason, on one line, when ``exc`` (or the driver error it wraps) is a deadlock or a
    serialization failure; None for any other error."""
    current: BaseException | None = exc
    while current is not None:
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if code in TRANSIENT_SQLSTATES:
            return first_line(current)
        current = current.__cause__
    return None


def conflict_retry_countdown(retries: int) -> int:
    """Seconds before retry number ``retries + 1`` of a task aborted by a deadlock or a
    serialization failure: DATABASE_CONFLICT_RETRY_SECONDS doubled at each retry, capped."""
    return min(
        settings.DATABASE_CONFLICT_RETRY_SECONDS * 2**retries,
        settings.DATABASE_CONFLICT_RETRY_MAX_SECONDS,
    )


@dataclass(frozen=True)
class GaveUp:
    """What ``with_conflict_retries`` returns when every retry met a conflict too."""

    reason: str  # the last conflict, on one line
    attempts: int


def with_conflict_retries(task: "Task", work: Callable[[], T], *, what: str) -> T | GaveUp:
    """Run ``work`` for ``task``; after a deadlock or a serialization failure, run it again.

    On a worker the task is retried through Celery after ``conflict_retry_countdown`` seconds
    (the task raises Celery's Retry); run eagerly (no broker) it is run again at once, in the
    caller's process. At most DATABASE_CONFLICT_RETRIES retries, each logged on one line under
    ``what``; then the last conflict is logged and returned as ``GaveUp``. Any other error is
    raised as it is.
    """
    limit = settings.DATABASE_CONFLICT_RETRIES
    retries = task.request.retries or 0
    while True:
        try:
            return work()
        except DatabaseError as exc:
            reason = transient_db_error(exc)
            if reason is None:
                raise
            if retries >= limit:
                log.error("%s: %s; gave up after %s attempts", what, reason, retries + 1)
                return GaveUp(reason=reason, attempts=retries + 1)
            if task.request.is_eager or task.request.called_directly:
                log.warning("%s: %s; retry %s of %s now", what, reason, retries + 1, limit)
                retries += 1
                continue
            countdown = conflict_retry_countdown(retries)
            log.warning(
                "%s: %s; retry %s of %s in %ss", what, reason, retries + 1, limit, countdown
            )
            raise task.retry(countdown=countdown, max_retries=limit) from None
