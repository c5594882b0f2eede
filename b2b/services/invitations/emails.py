"""The e-mails of invitations (invitation, reminder, withdrawal) and what became of each one.

Every message is a row (``InvitationEmail``) before it is sent: queued, then sent, or retrying
after a transient failure (an SMTP 4xx answer, a connection that failed or dropped), or failed
(a permanent 5xx answer, or out of attempts) with the server's answer on one line. The managers'
pages show these rows. Messages are queued after commit by ``queue_emails`` and sent by the
Celery task ``SEND_TASK`` (b2b/tasks.py) through Django's e-mail backend; the task retries a
transient failure after ``B2B_EMAIL_RETRY_SECONDS``, doubled each time, at most
``B2B_EMAIL_MAX_ATTEMPTS`` attempts in all. Building, sending and reading a failure are shared
with the other tracked e-mails (``b2b.services.mail``).
"""

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Max, Q

from b2b.enums import EmailState, InvitationEmailKind
from b2b.models import Invitation, InvitationEmail
from b2b.selectors.listings import contract_courses
from b2b.services.invitations.email_limits import addresses_at_limit
from b2b.services.mail import SendOutcome, attempt_send, html_message
from config.queueing import queue_after_commit

# The registered names of the tasks that send queued messages, and retry one (b2b/tasks.py).
SEND_TASK = "b2b.send_invitation_emails"
RETRY_TASK = "b2b.retry_invitation_email"

# The path of an invitation's link (config/urls.py routes it to b2b.views.invitation).
INVITATION_PATH = "/invitations/{token}/"

SUBJECTS = {
    InvitationEmailKind.INVITATION: "You are invited to join {contract} at {organization}",
    InvitationEmailKind.REMINDER: "Reminder: your invitation to {contract} at {organization}",
    InvitationEmailKind.REVOKE: "Your invitation to {contract} at {organization} was withdrawn",
}


def invitation_link(invitation: Invitation) -> str:
    """The absolute address of the invitation's page."""
    return settings.SITE_BASE_URL + INVITATION_PATH.format(token=invitation.token)


def queue_emails(invitations: Sequence[Invitation], kind: InvitationEmailKind) -> list[int]:
    """Record one queued message of ``kind`` per invitation (one statement) and send them after
    commit with one task; returns the messages' ids. A withdrawal is not sent to an address that
    had its share of invitation e-mails lately (``email_limits``; inviting such an address is
    refused before it gets here)."""
    if kind == InvitationEmailKind.REVOKE:
        invitations = _within_limits(invitations)
    emails = InvitationEmail.objects.bulk_create(
        [InvitationEmail(invitation_id=i.pk, kind=kind, to=i.email) for i in invitations]
    )
    ids = [email.pk for email in emails]
    if ids:
        queue_after_commit(SEND_TASK, *ids)
    return ids


def _within_limits(invitations: Sequence[Invitation]) -> list[Invitation]:
    """Those of ``invitations`` whose address may still be e-mailed (one query per contract)."""
    by_contract: dict[int, list[Invitation]] = {}
    for invitation in invitations:
        by_contract.setdefault(invitation.contract_id, []).append(invitation)
    kept: list[Invitation] = []
    for contract_id, some in by_contract.items():
        at_limit = addresses_at_limit(contract_id=contract_id, emails=[i.email for i in some])
        kept.extend(invitation for invitation in some if invitation.email not in at_limit)
    return kept


def _context(email: InvitationEmail) -> dict:
    """What the templates of ``email`` need: every course of the contract (one query), its
    organization (one), the price per course (None: free), the link and the code."""
    invitation = email.invitation
    contract = invitation.contract
    return {
        "invitation": invitation,
        "name": invitation.name,
        "organization": contract.organization.title,
        "contract": contract.title,
        "courseware": contract_courses(contract.pk),
        "price": None if contract.is_free else contract.price,
        "link": invitation_link(invitation),
        "code": invitation.code.discount_code if invitation.code is not None else "",
    }


def build_message(email: InvitationEmail) -> EmailMultiAlternatives:
    """The message of ``email``: subject, text and HTML parts from b2b/templates/b2b/email/."""
    context = _context(email)
    subject = SUBJECTS[InvitationEmailKind(email.kind)].format(**context)
    return html_message(
        subject=subject, template=f"b2b/email/{email.kind}", context=context, to=email.to
    )


# The kinds of message the reminder cooldown counts (``Invitation.last_emailed_on``).
INVITING = (InvitationEmailKind.INVITATION, InvitationEmailKind.REMINDER)


def send_email(email_id: int) -> SendOutcome:
    """Send one queued or retrying message and record the outcome; a message already sent or
    failed is left alone. A transient failure leaves it RETRYING while attempts remain
    (``B2B_EMAIL_MAX_ATTEMPTS``), FAILED after that, marked ``transient_failure`` for the sweep
    to send it again once the server answers (``invitation_sweep``); a permanent one is FAILED
    for good. The message is claimed under its row lock and only while queued or retrying, so
    two tasks for one message (a retry and the sweep's) send it once.

    An invitation or reminder delivered stamps its invitation's ``last_emailed_on`` (the
    reminder cooldown counts from it); one that failed puts back the invitation's last delivered
    (or still pending) e-mail, or nothing: it may be reminded at once."""
    with transaction.atomic():
        email = (
            InvitationEmail.objects.select_for_update(of=("self",))
            .select_related("invitation__contract", "invitation__code")
            .filter(pk=email_id, state__in=[EmailState.QUEUED, EmailState.RETRYING])
            .first()
        )
        if email is None:
            return SendOutcome(EmailState.SENT)
        outcome = attempt_send(email, lambda: build_message(email))
        if email.kind in INVITING and outcome.state != EmailState.RETRYING:
            _stamp_emailed(email)
    return outcome


def _stamp_emailed(email: InvitationEmail) -> None:
    """Set the invitation's ``last_emailed_on`` after ``email`` was delivered or failed: the
    latest of its delivered invitation and reminder e-mails (when sent) and of those still on
    their way (when queued)."""
    moments = InvitationEmail.objects.filter(
        invitation_id=email.invitation_id, kind__in=INVITING
    ).aggregate(
        sent=Max("sent_on", filter=Q(state=EmailState.SENT)),
        pending=Max("queued_on", filter=Q(state__in=[EmailState.QUEUED, EmailState.RETRYING])),
    )
    latest = max((m for m in moments.values() if m is not None), default=None)
    Invitation.objects.filter(pk=email.invitation_id).update(last_emailed_on=latest)


def attempts_of(email_id: int) -> int:
    return (
        InvitationEmail.objects.filter(pk=email_id).values_list("attempts", flat=True).first() or 0
    )
