"""The sweep sends a message that failed for a transient reason once, even when two sweeps, or
a sweep and a retry, run at the same moment (real connections, a real SMTP server)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from b2b.enums import EmailState
from b2b.models import InvitationEmail
from b2b.services.invitations.emails import send_email
from b2b.services.invitations.sweep import requeue_invitation_work
from tests.b2b.helpers import contract_with_codes, stall_invitation_work

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _failed_after_an_outage(count: int) -> list[int]:
    contract, _ = contract_with_codes(max_learners=10)
    _jobs, emails = stall_invitation_work(contract, jobs=0, emails=count, minutes=60)
    ids = [email.pk for email in emails]
    InvitationEmail.objects.filter(pk__in=ids).update(
        state=EmailState.FAILED, transient_failure=True, attempts=5, last_error="timed out"
    )
    return ids


def _at_once(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=20)
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_sweeps_at_once_send_each_failed_message_once(site_tree, smtp_server):
    ids = _failed_after_an_outage(20)
    later = timezone.now() + timedelta(minutes=1)
    first, second = _at_once(
        lambda: requeue_invitation_work(now=later), lambda: requeue_invitation_work(now=later)
    )
    assert sorted(first.email_ids + second.email_ids) == ids  # each row claimed by one sweep
    smtp_server.wait_for(20)
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        InvitationEmail.objects.values_list("to", flat=True)
    )
    assert set(InvitationEmail.objects.values_list("state", "attempts")) == {(EmailState.SENT, 6)}


def test_a_sweep_and_a_late_retry_at_once_send_the_message_once(site_tree, smtp_server):
    (email_id,) = _failed_after_an_outage(1)
    InvitationEmail.objects.filter(pk=email_id).update(state=EmailState.RETRYING)
    later = timezone.now() + timedelta(hours=1)  # the retry looks lost to the sweep
    _at_once(lambda: requeue_invitation_work(now=later), lambda: send_email(email_id))
    smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    email = InvitationEmail.objects.get(pk=email_id)
    assert (email.state, email.attempts) == (EmailState.SENT, 6)
