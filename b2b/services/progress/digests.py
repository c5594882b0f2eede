"""The weekly progress digest: on Monday, from ``B2B_PROGRESS_DIGEST_HOUR``, every manager who
asked for it (``OrganizationManager.wants_digest``) gets one e-mail with, per contract of the
organization, the funnel and what changed since the previous digest that went out (or, for the
first, the last seven days), and a link to the contract's progress on the manager pages.

Celery beat runs ``DIGEST_TASK`` every hour; outside Monday's hours it does nothing, and on
Monday each manager's digest is claimed once: a ``ProgressDigest`` row per manager and week
(its unique constraint), so a second run, or two at once, claim nothing more. The claimed
digest is sent after commit by ``SEND_DIGEST_TASK`` and tracked like the other e-mails
(``b2b.services.mail``): queued, retrying, sent or failed with the server's answer. A digest
that failed for a transient reason after every retry, or that nothing sent, is queued again by
the sweep (``requeue_digests``) within its week; a later week's digest counts from the last one
delivered, so nothing is lost. A manager whose role was removed has no row left (the digests go
with it); one who turned the digest off before it went out gets nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from b2b.enums import EmailState
from b2b.models import AttentionCutoffs, ProgressDigest
from b2b.selectors.progress import min_group
from b2b.selectors.progress_delivery import (
    digest_recipients,
    digest_sections,
    last_digest_sent_on,
)
from b2b.services.mail import SendOutcome, attempt_send, html_message, record_send
from config.queueing import queue_after_commit

# The registered names of the tasks (b2b/tasks.py): claim the week's digests (hourly, beat);
# send one; queue again the digests nothing sent.
DIGEST_TASK = "b2b.send_progress_digests"
SEND_DIGEST_TASK = "b2b.send_progress_digest"
DIGEST_SWEEP_TASK = "b2b.requeue_progress_digests"

FIRST_DIGEST_DAYS = 7  # the first digest of a manager reports the changes of the last week


def week_of(moment: datetime) -> date:
    """The Monday (in TIME_ZONE) of the week of ``moment``."""
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def digests_due(moment: datetime) -> bool:
    """Whether the week's digests may go out at ``moment``: from Monday's
    B2B_PROGRESS_DIGEST_HOUR to the end of the week. Each manager's is claimed once a week, so
    they go out on Monday, or, when nothing ran then (beat or the workers down), at the next run
    of the week."""
    local = timezone.localtime(moment)
    return local.weekday() > 0 or local.hour >= settings.B2B_PROGRESS_DIGEST_HOUR


def claim_weekly_digests(*, now: datetime | None = None) -> list[int]:
    """Claim this week's digest of every manager who wants it and has none yet, and send each
    after its commit; returns the claimed digests' ids (none before Monday's hour)."""
    now = now or timezone.now()
    if not digests_due(now):
        return []
    week = week_of(now)
    claimed: list[int] = []
    for manager in digest_recipients().exclude(digests__week_of=week):
        to = manager.user.email.strip()
        if not to:
            continue
        try:
            with transaction.atomic():
                digest = ProgressDigest.objects.create(
                    manager=manager, week_of=week, since=last_digest_sent_on(manager.pk), to=to
                )
                queue_after_commit(SEND_DIGEST_TASK, digest.pk)
        except IntegrityError:  # another run claimed it first
            continue
        claimed.append(digest.pk)
    return claimed


def _count(value: int | None) -> str:
    return f"fewer than {min_group()}" if value is None else str(value)


def digest_message(digest: ProgressDigest, *, now: datetime) -> EmailMultiAlternatives:
    """The digest's message, as of ``now`` (b2b/templates/b2b/email/digest.*)."""
    manager = digest.manager
    organization = manager.organization
    since = digest.since or now - timedelta(days=FIRST_DIGEST_DAYS)
    sections = digest_sections(organization, since, AttentionCutoffs.at(now))
    context = {
        "name": manager.user.name,
        "organization": organization.title,
        "week_of": digest.week_of,
        "since": timezone.localtime(since),
        "first": digest.since is None,
        "min_group": min_group(),
        "sections": [
            {
                "section": section,
                "joined": _count(section.changes.joined),
                "passed": _count(section.changes.passed),
                "certified": _count(section.changes.certified),
                "newly_flagged": _count(section.changes.newly_flagged),
                "needs_attention": _count(section.summary.needs_attention),
            }
            for section in sections
        ],
    }
    week = f"{digest.week_of:%B} {digest.week_of.day}, {digest.week_of.year}"
    return html_message(
        subject=f"Learner progress at {organization.title}: week of {week}",
        template="b2b/email/digest",
        context=context,
        to=digest.to,
    )


def send_digest(digest_id: int, *, now: datetime | None = None) -> SendOutcome:
    """Send one queued or retrying digest and record the outcome; one already sent or failed,
    or gone with its manager's role, is left alone (claimed under its row lock: two tasks for
    one digest send it once). A manager who no longer wants it gets nothing: it is FAILED with
    that reason. A transient failure leaves it RETRYING while attempts remain, then FAILED and
    ``transient_failure`` (the sweep sends it again); a permanent one is FAILED for good."""
    now = now or timezone.now()
    with transaction.atomic():
        digest = (
            ProgressDigest.objects.select_for_update(of=("self",))
            .select_related("manager__user", "manager__organization")
            .filter(pk=digest_id, state__in=[EmailState.QUEUED, EmailState.RETRYING])
            .first()
        )
        if digest is None:
            return SendOutcome(EmailState.SENT)
        if not (digest.manager.wants_digest and digest.manager.user.is_active):
            outcome = record_send(
                digest, SendOutcome(EmailState.FAILED, "The manager no longer wants the digest.")
            )
        else:
            outcome = attempt_send(digest, lambda: digest_message(digest, now=now))
    return outcome


def digest_attempts(digest_id: int) -> int:
    return (
        ProgressDigest.objects.filter(pk=digest_id).values_list("attempts", flat=True).first() or 0
    )


def requeue_digests(*, now: datetime | None = None) -> list[int]:
    """Queue again this week's digests nothing sent (queued, or retrying past the longest wait
    before a retry) and those that failed for a transient reason after every retry, when they
    were last queued at least B2B_INVITATION_REQUEUE_AFTER_SECONDS ago; returns their ids. Rows
    are taken under their lock, skipping those a sender holds."""
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
            ProgressDigest.objects.filter(unsent, week_of=week_of(now), updated_on__lte=now - grace)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        ProgressDigest.objects.filter(pk__in=ids).update(
            state=EmailState.QUEUED, transient_failure=False, updated_on=now
        )
        for digest_id in ids:
            queue_after_commit(SEND_DIGEST_TASK, digest_id)
    return ids
