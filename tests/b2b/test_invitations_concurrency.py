"""Two managers inviting the last seats at once never exceed the cap (real connections)."""

import threading

import pytest
from django.db import connection

from b2b.enums import InviteOutcome
from b2b.services.invitations import InviteRow, invite, invite_many, open_invitations
from tests.b2b.invitation_helpers import contract_with_codes

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
