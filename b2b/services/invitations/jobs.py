"""A manager's upload of people to invite, as a job with a result per row.

``start_invite_job`` stores the uploaded rows on a new ``InviteJob``. A small file (at most
``B2B_INVITE_INLINE_ROWS`` rows) is handled in the request; a larger one is queued after commit
(``INVITE_JOB_TASK``) and the page follows its progress (``InviteJob.done`` of ``total``, written
by ``invite_many``'s progress callback as each batch commits). The invitation rules are
``b2b.services.invitations.invite.invite_many``'s; a row whose name starts like a spreadsheet
formula is
refused here ("invalid name") and never reaches it.

Running a job is safe to repeat: a job already finished is left alone, and a run that died half
way goes through the rows again but keeps every result already stored (each batch's results
are stored in the batch's transaction), so the rows it had invited still read "invited".

One run at a time: a run claims the job under its row lock (queued -> running) and refreshes
``beat_on`` as each batch commits. A second delivery of the same job (the sweep queued it again
while the first message was still on its way) finds it running and leaves it alone; a job
running with no sign of life for ``B2B_INVITE_JOB_STALE_SECONDS`` is taken over (its worker
died). A run stopped by a database error puts the job back to queued with the error on one line
(``last_error``), for the sweep (``b2b.services.invitations.sweep``) to queue again.
"""

import contextlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from b2b.enums import InviteJobState
from b2b.models import INVALID_NAME, ContractPage, InviteJob, InviteJobRow
from b2b.services.invitations.invite import InviteResult, InviteRow, invite_many
from b2b.services.invitations.uploads import UploadRow, formula_cells
from config.db_errors import one_line
from config.queueing import queue_after_commit
from config.throttling import describe_wait
from users.models import User

log = logging.getLogger(__name__)

INVITE_JOB_TASK = "b2b.run_invite_job"
WRITE_BATCH = 1000


def runs_inline(rows: int) -> bool:
    """Whether a job of ``rows`` rows is handled in the request (else it is queued)."""
    return rows <= settings.B2B_INVITE_INLINE_ROWS


@transaction.atomic
def start_invite_job(
    *, contract: ContractPage, rows: list[UploadRow], by: User | None
) -> InviteJob:
    """Store the rows as a new job of the contract; run it now when it is small, else queue it
    after commit."""
    job = InviteJob.objects.create(contract=contract, created_by=by, rows=len(rows))
    InviteJobRow.objects.bulk_create(
        [
            InviteJobRow(
                job=job,
                position=position,
                line=row.line,
                email=row.email,
                name=row.name,
                outcome=INVALID_NAME if formula_cells(row) else "",
            )
            for position, row in enumerate(rows)
        ],
        batch_size=WRITE_BATCH,
    )
    if not runs_inline(len(rows)):
        queue_after_commit(INVITE_JOB_TASK, job.pk)
        return job
    transaction.on_commit(lambda: run_inline(job_id=job.pk))
    return job


def run_inline(*, job_id: int) -> InviteJob | None:
    """Run a small job in the request that made it (the seam between the request and the job).
    A job already tried is left alone. A database error does not reach the request: it is
    logged as one warning line, and the job is left queued with the error for the sweep to
    queue again (the page and the API then say so, from ``last_error``). Returns the job."""
    try:
        return run_invite_job(job_id=job_id, only_untried=True)
    except DatabaseError as exc:
        log.warning(
            "Invite job %s could not run in the request, left queued for the sweep: %s",
            job_id,
            one_line(exc),
        )
        return None


def deferred_notice(job: InviteJob) -> str:
    """What a manager is told about a job whose last run stopped on an error and that waits for
    the sweep ("" for any other job). The error itself is for the logs, not for managers."""
    if job.state != InviteJobState.QUEUED or not job.last_error:
        return ""
    within = settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS + settings.PENDING_SWEEP_INTERVAL_SECONDS
    return (
        "The list could not be handled just now; it is saved and will be handled automatically "
        f"within {describe_wait(within)}."
    )


def stale_before(now: datetime | None = None) -> datetime:
    """A running job whose last sign of life is older than this is abandoned (its worker died):
    the one definition, used by the claim and by the sweep."""
    return (now or timezone.now()) - timedelta(seconds=settings.B2B_INVITE_JOB_STALE_SECONDS)


def _claim(job_id: int, *, only_untried: bool = False) -> InviteJob | None:
    """Mark the job running, unless it is finished (or gone), another run is at it (running,
    with a sign of life within B2B_INVITE_JOB_STALE_SECONDS) or, with ``only_untried``, it was
    tried before; returns it."""
    with transaction.atomic():
        job = InviteJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state == InviteJobState.DONE:
            return None
        alive = job.beat_on or job.started_on
        if job.state == InviteJobState.RUNNING and alive is not None and alive > stale_before():
            return None
        if only_untried and job.started_on is not None:
            return None
        now = timezone.now()
        job.state = InviteJobState.RUNNING
        job.started_on = job.beat_on = now
        job.last_error = ""
        job.save(update_fields=["state", "started_on", "beat_on", "last_error"])
        return job


def _release(job_id: int, exc: DatabaseError) -> None:
    """Put a job whose run stopped on a database error back to queued, with the error. A lost
    connection is closed first (outside a transaction), so the next query opens a new one; when
    the database cannot take even that, the job stays running and is taken over once stale."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    with contextlib.suppress(DatabaseError):
        InviteJob.objects.filter(pk=job_id, state=InviteJobState.RUNNING).update(
            state=InviteJobState.QUEUED, beat_on=None, last_error=one_line(exc)
        )


def run_invite_job(*, job_id: int, only_untried: bool = False) -> InviteJob | None:
    """Invite the job's rows through ``invite_many`` and store each row's result; returns the
    job, or None when there was nothing to do (see ``_claim``).

    A batch's results are stored in the batch's own transaction, so a row's stored result is
    final: a run that died half way and runs again keeps the results of the batches that
    committed ("invited" stays "invited") and stores the others. A database error puts the job
    back to queued (``last_error`` says why) and is raised again."""
    job = _claim(job_id, only_untried=only_untried)
    if job is None:
        return None
    try:
        return _run(job)
    except DatabaseError as exc:
        _release(job_id, exc)
        raise


def _run(job: InviteJob) -> InviteJob:
    job_id = job.pk
    rows = list(job.row_set.exclude(outcome=INVALID_NAME).order_by("position"))
    settled = {row.pk for row in rows if row.outcome}  # decided by an earlier run

    def settle(results: list[InviteResult]) -> None:
        fresh = []
        for result in results:
            row = rows[result.row - 1]
            if row.pk not in settled:
                row.outcome = result.outcome.value
                row.invitation_id = result.invitation_id
                settled.add(row.pk)
                fresh.append(row)
        InviteJobRow.objects.bulk_update(
            fresh, ["outcome", "invitation_id"], batch_size=WRITE_BATCH
        )

    def progress(_step: str, done: int, total: int) -> None:
        InviteJob.objects.filter(pk=job_id).update(done=done, total=total, beat_on=timezone.now())

    results = invite_many(
        contract=job.contract,
        rows=[InviteRow(email=row.email, name=row.name) for row in rows],
        by=job.created_by,
        progress=progress,
        on_batch=settle,
    )
    with transaction.atomic():
        settle(results)  # the rows no batch decided: invalid e-mails, duplicates in the file
        InviteJob.objects.filter(pk=job_id).update(
            state=InviteJobState.DONE, finished_on=timezone.now(), done=F("total"), last_error=""
        )
    job.refresh_from_db()
    return job


def invite_list(*, contract: ContractPage, rows: list[UploadRow], by: User | None) -> InviteJob:
    """Invite a list of people (a file's rows or the API's list): the one way in for the manager
    pages and the manager API. The list is stored as a job; a small one is handled before this
    returns (unless a database error stopped it: then ``deferred_notice`` says so), a larger one
    is queued. Returns the job as it is now."""
    job = start_invite_job(contract=contract, rows=rows, by=by)
    if runs_inline(job.rows):
        run_inline(job_id=job.pk)  # a no-op when the caller's commit already ran it
    job.refresh_from_db()
    return job
