"""Nudges: a reminder e-mail to a learner who needs attention (not started long after
enrolling, or stalled), sent by a manager from the contract's page or automatically each day
for the contracts with ``auto_nudges``.

A learner's row (one run) is nudged at most once per ``B2B_PROGRESS_NUDGE_COOLDOWN_DAYS``: the
row's ``last_nudged_on`` is stamped in the transaction that records the nudge, on the rows
taken under their lock and only while they are not cooling down, so two managers nudging at
once send one e-mail per row. An address receives no more e-mail in 24 hours than the
invitations' limits allow (``B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT`` about one
contract, ``B2B_INVITATION_EMAILS_PER_ADDRESS_PER_DAY`` in all), invitation e-mails and nudges
counted together.

Every nudge is a ``ProgressNudge`` row before it is sent, tracked as invitation e-mail is:
queued, then sent, or retrying after a transient failure, or failed with the server's answer.
They are sent after commit by ``NUDGE_TASK`` (b2b/tasks.py); a transient failure is tried again
after a growing wait (``b2b.services.mail``), and one still failing after every attempt is sent
again by the sweep (``requeue_nudges``, ``NUDGE_SWEEP_TASK``) once the server answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from b2b.enums import EmailState
from b2b.exceptions import NothingToNudge, ProgressHidden
from b2b.models import (
    AttentionCutoffs,
    ContractPage,
    InvitationEmail,
    LearnerProgress,
    ProgressNudge,
    needs_attention_q,
)
from b2b.selectors.progress import shows_learners
from b2b.selectors.progress_delivery import auto_nudge_contracts, flagged_rows
from b2b.services.invitations.email_limits import COUNTED, WINDOW
from b2b.services.mail import SendOutcome, attempt_send, html_message
from config.queueing import queue_after_commit
from users.models import User

# The registered names of the tasks (b2b/tasks.py): send queued nudges; nudge the flagged
# learners of the contracts with automatic nudges (daily); queue again the nudges nothing sent.
NUDGE_TASK = "b2b.send_progress_nudges"
AUTO_NUDGE_TASK = "b2b.nudge_flagged_learners"
NUDGE_SWEEP_TASK = "b2b.requeue_progress_nudges"
NUDGES_PER_TASK = 500


@dataclass(frozen=True)
class NudgeOutcome:
    """What a nudge did, in rows: e-mails queued; rows nudged within the cooldown; rows asked
    for that do not need attention (or are not this contract's); rows with no address here (an
    Open edX learner we could not map to a user); rows whose address had its share of e-mail in
    the last 24 hours."""

    queued: int
    cooling_down: int
    not_flagged: int
    no_address: int = 0
    at_limit: int = 0


def _cooled(now: datetime) -> Q:
    """Rows that may be nudged now: never, or longer than the cooldown ago."""
    cutoff = now - timedelta(days=settings.B2B_PROGRESS_NUDGE_COOLDOWN_DAYS)
    return Q(last_nudged_on__isnull=True) | Q(last_nudged_on__lt=cutoff)


def _emails_lately(contract_id: int, addresses: set[str], now: datetime) -> dict[str, list[int]]:
    """Per address (lower-case), the e-mails it received in the last 24 hours: [about this
    contract, in all], invitation e-mails and nudges together (two queries)."""
    counts = {address: [0, 0] for address in addresses}
    if not addresses:
        return counts
    since = now - WINDOW
    invitation_rows = (
        InvitationEmail.objects.annotate(address=Lower("to"))
        .filter(address__in=addresses, kind__in=COUNTED, queued_on__gt=since)
        .values_list("address")
        .annotate(
            total=Count("pk"), here=Count("pk", filter=Q(invitation__contract_id=contract_id))
        )
        .order_by()
    )
    nudge_rows = (
        ProgressNudge.objects.annotate(address=Lower("to"))
        .filter(address__in=addresses, queued_on__gt=since)
        .values_list("address")
        .annotate(total=Count("pk"), here=Count("pk", filter=Q(contract_id=contract_id)))
        .order_by()
    )
    for rows in (invitation_rows, nudge_rows):
        for address, total, here in rows:
            counts[address][0] += here
            counts[address][1] += total
    return counts


def nudge_learners(
    contract: ContractPage,
    *,
    by: User | None,
    cutoffs: AttentionCutoffs,
    progress_ids: list[int] | None = None,
) -> NudgeOutcome:
    """E-mail a nudge to the contract's learners who need attention at ``cutoffs``: all of
    them (``progress_ids`` None), or those of ``progress_ids`` (ids of other contracts' rows
    count as not flagged). ``by`` is the manager who sends them; None for the automatic ones.

    Raises ``ProgressHidden`` when the contract shows its managers aggregates only, and
    ``NothingToNudge`` when ``progress_ids`` is empty."""
    if not shows_learners(contract):
        raise ProgressHidden("This contract shows aggregates only: its learners cannot be nudged.")
    wanted = None if progress_ids is None else set(progress_ids)
    if wanted is not None and not wanted:
        raise NothingToNudge("Select at least one learner to nudge.")
    now = timezone.now()
    with transaction.atomic():
        flagged = list(
            flagged_rows(contract.pk, cutoffs, progress_ids=wanted).values_list("pk", "user_id")
        )
        mapped = [pk for pk, user_id in flagged if user_id is not None]
        # Under their lock: a row another manager nudged meanwhile is read again, cooling down.
        ready = list(
            LearnerProgress.objects.filter(pk__in=mapped)
            .filter(_cooled(now), needs_attention_q(cutoffs))
            .select_for_update(of=("self",))
            .select_related("user")
            .order_by("pk")
        )
        addressed = [row for row in ready if row.user is not None and row.user.email.strip()]
        lately = _emails_lately(
            contract.pk, {row.user.email.strip().lower() for row in addressed if row.user}, now
        )
        per_contract = settings.B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT
        per_day = settings.B2B_INVITATION_EMAILS_PER_ADDRESS_PER_DAY
        nudged: list[LearnerProgress] = []
        for row in addressed:
            assert row.user is not None
            counted = lately[row.user.email.strip().lower()]
            if counted[0] >= per_contract or counted[1] >= per_day:
                continue
            counted[0] += 1
            counted[1] += 1
            nudged.append(row)
        LearnerProgress.objects.filter(pk__in=[row.pk for row in nudged]).update(last_nudged_on=now)
        nudges = ProgressNudge.objects.bulk_create(
            [
                ProgressNudge(
                    progress_id=row.pk,
                    contract_id=contract.pk,
                    to=row.user.email.strip() if row.user else "",
                    sent_by=by,
                )
                for row in nudged
            ]
        )
        ids = [nudge.pk for nudge in nudges]
        for start in range(0, len(ids), NUDGES_PER_TASK):
            queue_after_commit(NUDGE_TASK, *ids[start : start + NUDGES_PER_TASK])
    return NudgeOutcome(
        queued=len(nudged),
        cooling_down=len(mapped) - len(ready),
        not_flagged=0 if wanted is None else len(wanted) - len(flagged),
        no_address=len(flagged) - len(mapped) + len(ready) - len(addressed),
        at_limit=len(addressed) - len(nudged),
    )


def nudge_flagged_learners(*, now: datetime | None = None) -> dict[int, NudgeOutcome]:
    """The daily automatic nudges: for each active contract with ``auto_nudges`` that shows its
    learners one by one, nudge every learner who needs attention (one transaction per
    contract); returns the outcome per contract id."""
    cutoffs = AttentionCutoffs.at(now or timezone.now())
    return {
        contract.pk: nudge_learners(contract, by=None, cutoffs=cutoffs)
        for contract in auto_nudge_contracts()
    }


# Sending.


def _progress_line(row: LearnerProgress) -> str:
    if not row.is_started:
        return "You have not started the course yet."
    grade = round(100 * (row.grade_percent or 0))
    return (
        f"Your grade so far is {grade}%, and we have not seen any new progress since "
        f"{timezone.localtime(row.changed_on):%B} {timezone.localtime(row.changed_on).day}."
    )


def _sender(nudge: ProgressNudge, organization: str) -> str:
    if nudge.sent_by is not None:
        who = nudge.sent_by.name or nudge.sent_by.email
        return f"{who}, who manages your learning at {organization}"
    return organization


def nudge_message(nudge: ProgressNudge) -> EmailMultiAlternatives:
    """The message of ``nudge``: the course, the learner's progress, the way back to it and who
    sent it (b2b/templates/b2b/email/nudge.*)."""
    row = nudge.progress
    contract = nudge.contract
    organization = contract.organization.title
    context = {
        "name": row.user.name if row.user else "",
        "course": row.run.title,
        "contract": contract.title,
        "organization": organization,
        "started": row.is_started,
        "progress": _progress_line(row),
        "link": settings.SITE_BASE_URL + reverse("ecommerce:dashboard"),
        "sender": _sender(nudge, organization),
    }
    subject = (
        f"Keep going with {row.run.title}"
        if row.is_started
        else f"{row.run.title} is waiting for you"
    )
    return html_message(subject=subject, template="b2b/email/nudge", context=context, to=nudge.to)


def send_nudge(nudge_id: int) -> SendOutcome:
    """Send one queued or retrying nudge and record the outcome; one already sent or failed is
    left alone (claimed under its row lock: two tasks for one nudge send it once). A transient
    failure leaves it RETRYING while attempts remain, FAILED and ``transient_failure`` after
    that (the sweep sends it again); a permanent one is FAILED for good."""
    with transaction.atomic():
        nudge = (
            ProgressNudge.objects.select_for_update(of=("self",))
            .select_related("progress__user", "progress__run", "contract", "sent_by")
            .filter(pk=nudge_id, state__in=[EmailState.QUEUED, EmailState.RETRYING])
            .first()
        )
        if nudge is None:
            return SendOutcome(EmailState.SENT)
        outcome = attempt_send(nudge, lambda: nudge_message(nudge))
    return outcome


def nudge_attempts(nudge_id: int) -> int:
    return ProgressNudge.objects.filter(pk=nudge_id).values_list("attempts", flat=True).first() or 0


def requeue_nudges(*, now: datetime | None = None) -> list[int]:
    """Queue again the nudges nothing sent (queued, or retrying past the longest wait before a
    retry) and those that failed for a transient reason after every retry, when they were last
    queued at least B2B_INVITATION_REQUEUE_AFTER_SECONDS ago; returns their ids. Rows are taken
    under their lock, skipping those a sender holds: two sweeps at once queue each nudge once."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS)
    lost_retry = now - grace - timedelta(seconds=settings.B2B_EMAIL_RETRY_MAX_SECONDS)
    unsent = (
        Q(state=EmailState.QUEUED)
        | Q(state=EmailState.RETRYING, updated_on__lte=lost_retry)
        | Q(state=EmailState.FAILED, transient_failure=True)
    )
    with transaction.atomic():
        ids = list(
            ProgressNudge.objects.filter(unsent, updated_on__lte=now - grace)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        ProgressNudge.objects.filter(pk__in=ids).update(
            state=EmailState.QUEUED, transient_failure=False, updated_on=now
        )
        for start in range(0, len(ids), NUDGES_PER_TASK):
            queue_after_commit(NUDGE_TASK, *ids[start : start + NUDGES_PER_TASK])
    return ids
