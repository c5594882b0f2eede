"""The sweep of managers' queued work that nothing picked up: invite jobs and invitation e-mails.

A job too large for the request, and every invitation, reminder and withdrawal e-mail, is queued
after commit. When the broker refuses it (down, unreachable), ``config.queueing`` logs one line
and the row stays queued; a worker that dies running a job leaves it running. Celery beat runs
``SWEEP_TASK`` every ``PENDING_SWEEP_INTERVAL_SECONDS`` (as it runs the code reconciliations'
sweep, ``b2b.services.codes.sweep``): what has waited ``B2B_INVITATION_REQUEUE_AFTER_SECONDS``
since it was last queued is queued again.

Queuing twice never does the work twice. The sweep takes the rows under their lock, skipping
those another sweep or a worker holds (a message being sent, a job being claimed), and stamps
them as queued now, so a second sweep at the same moment finds nothing to do. A job is claimed
under its row lock before it runs (``invite_jobs._claim``: a job already running is left alone)
and a message is sent under its row lock and only while it is queued or retrying
(``invitation_emails.send_email``).

A message that failed for a transient reason after every retry (the SMTP server was down or
busy for longer than the retries lasted) is sent again the same way, one attempt each sweep,
until the server answers; a permanent refusal (5xx) is never sent again, nor a message that no
longer matters (an invitation revoked or redeemed, or replaced by a later reminder).
``failed_emails`` counts the failed ones for the health report (``invitation-email-failed``).

``stalled_work`` is the same selection for the health report (``invitation-work-stalled``),
counted per contract from when the work was first queued, so the finding stays until the work
is done, however many times it was queued again.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from b2b.enums import EmailState, InvitationEmailKind, InvitationState, InviteJobState
from b2b.models import InvitationEmail, InviteJob
from b2b.services.invitations.emails import INVITING, SEND_TASK
from b2b.services.invitations.jobs import INVITE_JOB_TASK, stale_before
from config.queueing import queue_after_commit

log = logging.getLogger(__name__)

# The registered name of the task that runs ``requeue_invitation_work`` (b2b/tasks.py), as
# Celery beat's schedule names it.
SWEEP_TASK = "b2b.requeue_invitation_work"
EMAILS_PER_TASK = 500  # e-mails queued again are sent in tasks of this many ids


@dataclass(frozen=True)
class Requeued:
    job_ids: list[int] = field(default_factory=list)
    email_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class StalledWork:
    """A contract's work waiting for a worker: how many jobs and e-mails, and since when."""

    contract_id: int
    jobs: int
    emails: int
    oldest: datetime


def _grace() -> timedelta:
    return timedelta(seconds=settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS)


def _unclaimed_jobs(now: datetime) -> Q:
    """Jobs nobody is running: queued, or running with no sign of life for
    B2B_INVITE_JOB_STALE_SECONDS (their worker died)."""
    stale = stale_before(now)
    return Q(state=InviteJobState.QUEUED) | Q(
        Q(beat_on__lte=stale) | Q(beat_on__isnull=True, started_on__lte=stale),
        state=InviteJobState.RUNNING,
    )


def _unsent_emails(now: datetime) -> Q:
    """Messages nobody is sending: queued, or retrying and past the longest wait before a retry
    (the retry itself was lost)."""
    lost_retry = now - _grace() - timedelta(seconds=settings.B2B_EMAIL_RETRY_MAX_SECONDS)
    return Q(state=EmailState.QUEUED) | Q(state=EmailState.RETRYING, updated_on__lte=lost_retry)


def _failed_for_now() -> Q:
    """Failed messages still worth sending: a withdrawal, or an invitation or reminder of an
    invitation still open that no later invitation or reminder e-mail took the place of."""
    later = InvitationEmail.objects.filter(
        invitation_id=OuterRef("invitation_id"), pk__gt=OuterRef("pk"), kind__in=INVITING
    )
    return Q(state=EmailState.FAILED) & (
        Q(kind=InvitationEmailKind.REVOKE)
        | (Q(invitation__state=InvitationState.OPEN) & ~Q(Exists(later)))
    )


def _resendable() -> Q:
    """Failed messages the sweep sends again: worth sending, and failed for a transient reason
    after every retry (the server was down or busy for longer than the retries lasted)."""
    return _failed_for_now() & Q(transient_failure=True)


def _jobs(contract_id: int | None) -> QuerySet[InviteJob]:
    jobs = InviteJob.objects.all()
    return jobs if contract_id is None else jobs.filter(contract_id=contract_id)


def _emails(contract_id: int | None) -> QuerySet[InvitationEmail]:
    emails = InvitationEmail.objects.all()
    return emails if contract_id is None else emails.filter(invitation__contract_id=contract_id)


def requeue_invitation_work(
    *, contract_id: int | None = None, now: datetime | None = None
) -> Requeued:
    """Queue again the invite jobs and invitation e-mails queued at least
    B2B_INVITATION_REQUEUE_AFTER_SECONDS ago that nothing has picked up (of one contract, or
    all); returns their ids. Safe to run twice at once: each row is queued again by one sweep."""
    now = now or timezone.now()
    before = now - _grace()
    with transaction.atomic():
        job_ids = list(
            _jobs(contract_id)
            .filter(_unclaimed_jobs(now), queued_on__lte=before)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        InviteJob.objects.filter(pk__in=job_ids).update(queued_on=now)
        email_ids = list(
            _emails(contract_id)
            .filter(_unsent_emails(now) | _resendable(), updated_on__lte=before)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # a lost retry, or a message failed for a transient reason, is queued like a new
        # message (its attempts are kept: one attempt each time, no retries)
        InvitationEmail.objects.filter(pk__in=email_ids).update(
            state=EmailState.QUEUED, transient_failure=False, updated_on=now
        )
        for job_id in job_ids:
            queue_after_commit(INVITE_JOB_TASK, job_id)
        for start in range(0, len(email_ids), EMAILS_PER_TASK):
            queue_after_commit(SEND_TASK, *email_ids[start : start + EMAILS_PER_TASK])
    if job_ids or email_ids:
        log.info(
            "Queued again %s invite job(s) and %s invitation e-mail(s) nothing had picked up",
            len(job_ids),
            len(email_ids),
        )
    return Requeued(job_ids=job_ids, email_ids=email_ids)


def stalled_work(
    *, contract_ids: list[int] | None = None, now: datetime | None = None
) -> list[StalledWork]:
    """Per contract, the jobs and e-mails first queued at least
    B2B_INVITATION_REQUEUE_AFTER_SECONDS ago that are still not picked up (two queries)."""
    now = now or timezone.now()
    before = now - _grace()
    jobs = InviteJob.objects.filter(_unclaimed_jobs(now), created_on__lte=before)
    emails = InvitationEmail.objects.filter(_unsent_emails(now), queued_on__lte=before)
    if contract_ids is not None:
        jobs = jobs.filter(contract_id__in=contract_ids)
        emails = emails.filter(invitation__contract_id__in=contract_ids)
    found: dict[int, StalledWork] = {}
    job_rows = jobs.values_list("contract_id").annotate(n=Count("pk"), oldest=Min("created_on"))
    for contract_id, count, oldest in job_rows:
        found[contract_id] = StalledWork(contract_id, count, 0, oldest)
    email_rows = emails.values_list("invitation__contract_id").annotate(
        n=Count("pk"), oldest=Min("queued_on")
    )
    for contract_id, count, oldest in email_rows:
        known = found.get(contract_id)
        found[contract_id] = StalledWork(
            contract_id,
            known.jobs if known else 0,
            count,
            min(oldest, known.oldest) if known else oldest,
        )
    return [found[contract_id] for contract_id in sorted(found)]


@dataclass(frozen=True)
class FailedEmails:
    """A contract's invitation e-mails that failed and still matter: refused for good, and not
    delivered after every retry (the sweep sends those again)."""

    contract_id: int
    permanent: int
    transient: int


def failed_emails(*, contract_ids: list[int] | None = None) -> list[FailedEmails]:
    """Per contract, the failed e-mails worth sending (``_failed_for_now``: withdrawals, and
    open invitations' e-mails no later one replaced), by kind of failure (one query)."""
    emails = InvitationEmail.objects.filter(_failed_for_now())
    if contract_ids is not None:
        emails = emails.filter(invitation__contract_id__in=contract_ids)
    rows = (
        emails.values_list("invitation__contract_id")
        .annotate(
            permanent=Count("pk", filter=Q(transient_failure=False)),
            transient=Count("pk", filter=Q(transient_failure=True)),
        )
        .order_by("invitation__contract_id")
    )
    return [
        FailedEmails(contract_id, permanent, transient)
        for contract_id, permanent, transient in rows
    ]
