"""An SMTP outage longer than the retry window: the messages that failed for a transient reason
are sent by the sweep once the server answers (once), a permanent refusal stays failed, the
reminder cooldown counts from the last e-mail delivered, and the health report lists the failed
e-mails. Through a real SMTP server on loopback (tests/support/smtp_server.py)."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from b2b.enums import EmailState, InvitationEmailKind
from b2b.models import Invitation, InvitationEmail
from b2b.services.health.report import health_report
from b2b.services.invitations.invite import invite
from b2b.services.invitations.lifecycle import RemindAllResult, remind, remind_all_open, revoke
from b2b.services.invitations.sweep import Requeued, requeue_invitation_work
from tests.b2b.helpers import contract_with_codes
from tests.support import factories as f

pytestmark = pytest.mark.django_db

HOUR = 3600


@pytest.fixture
def contract(site_tree, settings):
    settings.B2B_EMAIL_MAX_ATTEMPTS = 3
    settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS = HOUR
    settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS = 600
    org = f.OrganizationPageFactory(title="Acme University")
    made, _ = contract_with_codes(max_learners=5, parent=org, title="Data Science 2026")
    return made


@pytest.fixture
def outage(smtp_server, settings):
    """Point the mail at a loopback port nobody listens on (connections are refused) until
    ``outage.end()`` points it back at the running SMTP server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_TIMEOUT = 2

    class Outage:
        server = smtp_server

        @staticmethod
        def begin():
            settings.EMAIL_PORT = closed_port

        @staticmethod
        def end():
            settings.EMAIL_PORT = smtp_server.port

    Outage.begin()
    return Outage()


def _later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def _invite(contract, capture, email="ann@example.com"):
    with capture(execute=True):
        return invite(contract=contract, email=email, name="Ann", by=None)


def _sweep(capture, *, minutes: int) -> Requeued:
    with capture(execute=True):
        return requeue_invitation_work(now=_later(minutes))


def test_after_a_long_outage_the_sweep_sends_the_invitation_once(
    contract, outage, django_capture_on_commit_callbacks
):
    _invite(contract, django_capture_on_commit_callbacks)
    (email,) = InvitationEmail.objects.all()
    assert (email.state, email.attempts) == (EmailState.FAILED, 3)
    assert "Connection refused" in email.last_error
    assert _sweep(django_capture_on_commit_callbacks, minutes=11).email_ids == [email.pk]
    email.refresh_from_db()
    assert (email.state, email.attempts) == (EmailState.FAILED, 4)  # still down: tried once

    outage.end()
    assert _sweep(django_capture_on_commit_callbacks, minutes=22).email_ids == [email.pk]
    (message,) = outage.server.wait_for(1)
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "You are invited to join Data Science 2026 at Acme University"
    email.refresh_from_db()
    assert (email.state, email.attempts, email.last_error) == (EmailState.SENT, 5, "")

    assert _sweep(django_capture_on_commit_callbacks, minutes=60) == Requeued()
    assert len(outage.server.messages) == 1


def test_a_permanent_refusal_stays_failed(
    contract, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refuse_next(1, "550 5.1.1 No such mailbox")
    _invite(contract, django_capture_on_commit_callbacks)
    assert _sweep(django_capture_on_commit_callbacks, minutes=60) == Requeued()
    (email,) = InvitationEmail.objects.all()
    assert (email.state, email.attempts, email.last_error) == (
        EmailState.FAILED,
        1,
        "550 5.1.1 No such mailbox",
    )
    assert smtp_server.messages == []


def test_an_invitation_never_delivered_can_be_reminded_at_once_and_is_then_sent_once(
    contract, outage, django_capture_on_commit_callbacks
):
    invitation = _invite(contract, django_capture_on_commit_callbacks)
    outage.end()
    with django_capture_on_commit_callbacks(execute=True):
        remind(invitation=invitation, by=None)  # no RemindTooSoon: nothing was delivered
    (message,) = outage.server.wait_for(1)
    assert message["Subject"] == "Reminder: your invitation to Data Science 2026 at Acme University"
    # the failed invitation e-mail is not sent as well: the reminder took its place
    assert _sweep(django_capture_on_commit_callbacks, minutes=60) == Requeued()
    assert len(outage.server.messages) == 1
    # the delivered reminder starts the cooldown
    with pytest.raises(Exception, match="was e-mailed less than 60 minutes ago"):
        remind(invitation=invitation, by=None)


def test_remind_everyone_counts_the_cooldown_from_the_last_delivered_e_mail(
    contract, outage, django_capture_on_commit_callbacks
):
    _invite(contract, django_capture_on_commit_callbacks, "ann@example.com")
    _invite(contract, django_capture_on_commit_callbacks, "bob@example.com")
    outage.end()
    _invite(contract, django_capture_on_commit_callbacks, "cid@example.com")  # delivered
    with django_capture_on_commit_callbacks(execute=True):
        result = remind_all_open(contract=contract, by=None)
    assert result == RemindAllResult(reminded=2, in_cooldown=1)
    reminded = sorted(
        InvitationEmail.objects.filter(kind=InvitationEmailKind.REMINDER).values_list(
            "to", flat=True
        )
    )
    assert reminded == ["ann@example.com", "bob@example.com"]


def test_a_failed_withdrawal_is_sent_by_the_sweep_but_not_the_withdrawn_invitation(
    contract, outage, django_capture_on_commit_callbacks
):
    invitation = _invite(contract, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        revoke(invitation=invitation, by=None)
    assert set(InvitationEmail.objects.values_list("state", flat=True)) == {EmailState.FAILED}
    outage.end()
    requeued = _sweep(django_capture_on_commit_callbacks, minutes=11)
    withdrawal = InvitationEmail.objects.get(kind=InvitationEmailKind.REVOKE)
    assert requeued.email_ids == [withdrawal.pk]
    (message,) = outage.server.wait_for(1)
    assert message["Subject"] == (
        "Your invitation to Data Science 2026 at Acme University was withdrawn"
    )


def test_the_health_report_lists_failed_invitation_e_mails(
    contract, outage, django_capture_on_commit_callbacks
):
    outage.end()
    outage.server.refuse_next(1, "550 5.1.1 No such mailbox")
    _invite(contract, django_capture_on_commit_callbacks, "gone@example.com")
    outage.begin()
    _invite(contract, django_capture_on_commit_callbacks, "ann@example.com")
    _invite(contract, django_capture_on_commit_callbacks, "bob@example.com")
    (finding,) = [f for f in health_report().findings if f.check == "invitation-email-failed"]
    assert (finding.contract_id, finding.severity, finding.subject) == (
        contract.pk,
        "warning",
        "invitations",
    )
    assert finding.what == (
        "3 invitation e-mail(s) failed: 1 refused for good, 2 not delivered after every retry "
        "(sent again once the SMTP server answers)"
    )
    outage.end()
    with django_capture_on_commit_callbacks(execute=True):
        requeue_invitation_work(now=_later(11))
    (finding,) = [f for f in health_report().findings if f.check == "invitation-email-failed"]
    assert finding.what == "1 invitation e-mail(s) failed: 1 refused for good"
    revoke(invitation=Invitation.objects.get(email="gone@example.com"), by=None)
    assert "invitation-email-failed" not in {f.check for f in health_report().findings}
