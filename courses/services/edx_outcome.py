"""Recording on a row how its Open edX work ended: one rule for run copies and enrollment pushes.

Both keep a state (``EdxCopyState`` or ``EdxSyncState``) and the last error on the row.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from courses import openedx
from courses.enums import EdxCopyState, EdxSyncState
from courses.exceptions import OpenEdxError, OpenEdxNotConfigured

log = logging.getLogger(__name__)

Record = Callable[..., None]  # record(state=..., error=...): writes the outcome on the row


@contextmanager
def recorded_outcome(
    record: Record,
    *,
    done: EdxCopyState | EdxSyncState,
    final_attempt: bool,
    what: str,
) -> Iterator[None]:
    """Run the Open edX calls of the ``with`` block and record how they ended, in the states of
    ``done``'s enum.

    Success records ``done`` with no error. Missing settings are not an error: the row is marked
    "not configured" and nothing is raised. Any other Open edX error is recorded (as failed, or
    still pending for a transient error when another attempt will follow), logged on one line
    under ``what``, and re-raised for the task to decide on a retry.
    """
    states = type(done)
    try:
        yield
    except OpenEdxNotConfigured as exc:
        record(state=states.NOT_CONFIGURED, error=str(exc))
    except OpenEdxError as exc:
        retrying, error = openedx.failure_outcome(exc, final_attempt=final_attempt)
        record(state=states.PENDING if retrying else states.FAILED, error=error)
        log.warning("%s: %s", what, error)
        raise
    else:
        record(state=done, error="")
