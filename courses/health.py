"""courses' part of the health report (``config.health_registry``): Open edX copies of contract
runs that failed or are late, enrollments Open edX has not taken, and the repairs that queue
both again.

Registered by ``courses.apps.CoursesConfig.ready``; imported when a report first runs (it
brings the Open edX client with the services). Each check is one query, or none: the runs of
the contracts in scope are read once per report (``HealthScope.shared``), b2b's checks of the
runs' dates and products reading the same rows.
"""

from config.health_registry import (
    Check,
    Finding,
    HealthScope,
    HealthSeverity,
    Repair,
    moment_text,
)
from courses import selectors
from courses.enums import EdxCopyState
from courses.exceptions import CoursesError
from courses.services.edx_copy import requeue_run_copies
from courses.services.enrollments import requeue_enrollment_pushes

ERROR, WARNING = HealthSeverity.ERROR, HealthSeverity.WARNING

# The repairs' names, as the findings give them.
COPY_AGAIN = "openedx-copy-again"
PUSH_AGAIN = "openedx-push-again"


def _copy_problem(
    run: selectors.ContractRunState, scope: HealthScope
) -> tuple[str, HealthSeverity, str] | None:
    """(check, severity, what) for a run whose copy failed or has been pending too long."""
    if run.edx_copy_state == EdxCopyState.FAILED:
        return "copy-failed", ERROR, f"failed: {run.edx_copy_error}"
    if run.edx_copy_state == EdxCopyState.PENDING and (
        run.edx_copy_updated_on is None or run.edx_copy_updated_on <= scope.openedx_pending_before
    ):
        return "copy-pending", WARNING, f"pending since {moment_text(run.edx_copy_updated_on)}"
    return None


def openedx_copies(scope: HealthScope) -> list[Finding]:
    findings = []
    for run in scope.shared(selectors.contract_run_states):
        problem = _copy_problem(run, scope)
        if problem is None:
            continue
        check, severity, what = problem
        findings.append(
            Finding(
                check,
                severity,
                run.contract_id,
                run.courseware_id,
                f"Open edX copy of {run.courseware_id} {what}",
                f"queue the copy again (requeue_edx_copies --run {run.courseware_id})",
                repair=COPY_AGAIN,
                target=run.courseware_id,
            )
        )
    return findings


def enrollments_not_pushed(scope: HealthScope) -> list[Finding]:
    findings = []
    for row in selectors.unpushed_enrollments(
        contract_ids=scope.contract_ids, pending_before=scope.openedx_pending_before
    ):
        counts = []
        if row.failed:
            error = f" ({row.last_error})" if row.last_error else ""
            counts.append(f"{row.failed} failed{error}")
        if row.pending:
            counts.append(f"{row.pending} pending since {moment_text(row.oldest)}")
        findings.append(
            Finding(
                "enrollments-not-pushed",
                ERROR if row.failed else WARNING,
                row.contract_id,
                row.courseware_id,
                f"{row.failed + row.pending} enrollment(s) in {row.courseware_id} not in Open "
                f"edX: {', '.join(counts)}",
                "check Open edX, then push them again (b2b_health --fix)",
                repair=PUSH_AGAIN,
                target=row.run_id,
            )
        )
    return findings


def _copy_again(courseware_id: str, scope: HealthScope) -> str:
    requeue_run_copies(courseware_id=courseware_id)
    return "queued the Open edX copy again"


def _push_again(run_id: int, scope: HealthScope) -> str:
    count = requeue_enrollment_pushes(run_ids=[run_id], pending_before=scope.openedx_pending_before)
    return f"queued {count} Open edX enrollment(s) again"


CHECKS: dict[str, Check] = {
    "openedx-copies": openedx_copies,  # copy-failed, copy-pending
    "enrollments-not-pushed": enrollments_not_pushed,
}

# Open edX not configured (or a run gone) is a courses error: the finding is left for a person.
REPAIRS: dict[str, Repair] = {
    COPY_AGAIN: Repair(_copy_again, refused_by=(CoursesError,)),
    PUSH_AGAIN: Repair(_push_again, refused_by=(CoursesError,)),
}
