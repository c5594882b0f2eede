"""Invitation e-mails sent by a real Celery worker (Redis, PostgreSQL, SMTP on loopback): a
refused message is retried after its wait, then sent."""

import time

import pytest

from b2b.enums import EmailState, InvitationEmailKind
from b2b.models import InvitationEmail
from b2b.services.invitations.invite import invite
from tests.b2b.helpers import contract_with_codes

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def celery_worker_env(smtp_server):
    return {**smtp_server.worker_env(), "B2B_EMAIL_RETRY_SECONDS": "1"}


def _state(email_id, wanted, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        email = InvitationEmail.objects.get(pk=email_id)
        if email.state == wanted:
            return email
        time.sleep(0.2)
    raise AssertionError(f"e-mail {email_id} is {email.state}, not {wanted}")


def test_the_worker_retries_a_refused_message_then_sends_it(
    site_tree, smtp_server, celery_worker_process
):
    contract, _ = contract_with_codes(max_learners=3)
    invitation = invite(contract=contract, email="ann@example.com", by=None)  # sent here, eagerly
    smtp_server.wait_for(1)
    reminder = InvitationEmail.objects.create(
        invitation=invitation, kind=InvitationEmailKind.REMINDER, to=invitation.email
    )
    smtp_server.refuse_next(1, "421 4.7.0 Too busy, come back later")
    result = celery_worker_process.send_task("b2b.send_invitation_emails", args=[reminder.pk])
    assert result.get(timeout=90) == {str(reminder.pk): "retrying"}
    sent = _state(reminder.pk, EmailState.SENT)
    assert sent.attempts == 2 and sent.last_error == ""
    messages = smtp_server.wait_for(2)
    assert messages[1]["Subject"].startswith("Reminder: your invitation to")
