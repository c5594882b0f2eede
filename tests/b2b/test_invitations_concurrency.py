"""Two managers inviting the last seats at once never exceed the cap; two clicks on "remind"
at once send one reminder (real connections)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from b2b.enums import InviteOutcome
from b2b.exceptions import RemindTooSoon
from b2b.models import Invitation, InvitationEmail
from b2b.selectors.invitations import open_invitations
from b2b.services.invitations.invite import InviteRow, invite, invite_many
from b2b.services.invitations.lifecycle import remind
from tests.b2b.helpers import contract_with_codes

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_managers_inviting_the_last_seats_at_once(site_tree):
    contract, _ = contract_with_codes(max_learners=6)
    for i in range(3):
        invite(contract=contract, email=f"early{i}@example.com", by=None)
    barrier = threading.Barrier(2)
    results = {}

    def send(name):
        try:
            barrier.wait(timeout=20)
            rows = [InviteRow(f"{name}{i}@example.com") for i in range(3)]
            results[name] = [r.outcome for r in invite_many(contract=contract, rows=rows, by=None)]
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    outcomes = results["a"] + results["b"]
    assert outcomes.count(InviteOutcome.INVITED) == 3
    assert outcomes.count(InviteOutcome.NO_SEATS) == 3
    # one of them took all three seats: the other waited for the lock and then saw them taken
    assert sorted([results["a"], results["b"]]) == sorted(
        [[InviteOutcome.INVITED] * 3, [InviteOutcome.NO_SEATS] * 3]
    )
    assert open_invitations(contract.pk).count() == 6
    codes = set(open_invitations(contract.pk).values_list("code_id", flat=True))
    assert len(codes) == 6 and None not in codes


def test_two_clicks_on_remind_at_once_send_one_reminder(site_tree, settings):
    """Two requests (a double click, two managers) remind the same invitation at the same
    moment: the cooldown is checked under the invitation's lock, so one reminder goes out and
    the other request is refused."""
    settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS = 3600
    contract, _ = contract_with_codes(max_learners=3)
    invitation = invite(contract=contract, email="ann@example.com", by=None)
    two_hours_ago = timezone.now() - timedelta(hours=2)
    Invitation.objects.filter(pk=invitation.pk).update(
        created_on=two_hours_ago, last_emailed_on=two_hours_ago
    )
    barrier = threading.Barrier(2)
    outcomes = []

    def click():
        try:
            barrier.wait(timeout=20)
            remind(invitation=invitation, by=None)
            outcomes.append("reminded")
        except RemindTooSoon:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "reminded"]
    reminders = InvitationEmail.objects.filter(invitation=invitation, kind="reminder")
    assert reminders.count() == 1
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 1
