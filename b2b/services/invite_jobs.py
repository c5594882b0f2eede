"""A manager's upload of people to invite, as a job with a result per row.

``start_invite_job`` stores the uploaded rows on a new ``InviteJob``. A small file (at most
``B2B_INVITE_INLINE_ROWS`` rows) is handled in the request; a larger one is queued after commit
(``INVITE_JOB_TASK``) and the page follows its progress (``InviteJob.done`` of ``total``, written
by ``invite_many``'s progress callback as each batch commits). The invitation rules are
``b2b.services.invitations.invite_many``'s; a row whose name starts like a spreadsheet formula is
refused here ("invalid name") and never reaches it.

Running a job is safe to repeat: a job already finished is left alone, and a run that died half
way goes through the rows again but keeps every result already stored (each batch's results
are stored in the batch's transaction), so the rows it had invited still read "invited".
"""

from collections.abc import Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from b2b.enums import InviteJobState
from b2b.models import INVALID_NAME, ContractPage, InviteJob, InviteJobRow, outcome_label
from b2b.services.invitations import InviteResult, InviteRow, invite_many
from b2b.services.invite_upload import UploadRow, formula_cells
from config.queueing import queue_after_commit
from users.models import User

INVITE_JOB_TASK = "b2b.run_invite_job"
RESULTS_HEADER = ["Line", "E-mail", "Name", "Result"]
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
    transaction.on_commit(lambda: run_invite_job(job_id=job.pk))
    return job


def _claim(job_id: int) -> InviteJob | None:
    """Mark the job running, unless it is finished (or gone); returns it."""
    with transaction.atomic():
        job = InviteJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state == InviteJobState.DONE:
            return None
        job.state = InviteJobState.RUNNING
        job.started_on = timezone.now()
        job.save(update_fields=["state", "started_on"])
        return job


def run_invite_job(*, job_id: int) -> InviteJob | None:
    """Invite the job's rows through ``invite_many`` and store each row's result; returns the
    job, or None when there was nothing to do.

    A batch's results are stored in the batch's own transaction, so a row's stored result is
    final: a run that died half way and runs again keeps the results of the batches that
    committed ("invited" stays "invited") and stores the others."""
    job = _claim(job_id)
    if job is None:
        return None
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
        InviteJob.objects.filter(pk=job_id).update(done=done, total=total)

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
            state=InviteJobState.DONE, finished_on=timezone.now(), done=F("total")
        )
    job.refresh_from_db()
    return job


def job_rows(job: InviteJob) -> QuerySet[InviteJobRow]:
    return job.row_set.order_by("position")


def iter_result_rows(job: InviteJob) -> Iterator[list[str]]:
    """The results CSV's rows, header first (chunks of WRITE_BATCH rows, one query each)."""
    yield RESULTS_HEADER
    after = -1
    while True:
        chunk = list(job.row_set.filter(position__gt=after).order_by("position")[:WRITE_BATCH])
        if not chunk:
            return
        for row in chunk:
            yield [str(row.line), row.email, row.name, outcome_label(row.outcome)]
        after = chunk[-1].position
