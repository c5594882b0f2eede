"""A renewal that carries learners waits for a learner joining the current contract at that
moment, and carries them too (real parallel connections on PostgreSQL)."""

import threading
from datetime import date

import pytest
from django.db import transaction

from b2b.models import ContractMembership, ContractPage
from b2b.services.contracts.renewal import renew_contract
from b2b.services.memberships import attach_learner
from tests.support import factories as f
from tests.support.databases import lock_waiters
from tests.support.races import InThread, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_renewal_waits_for_a_joining_learner_and_carries_them(site_tree):
    current = f.ContractPageFactory(max_learners=3, title="Acme 2026")
    for _ in range(2):
        ContractMembership.objects.create(user=f.UserFactory(), contract=current, source="code")
    late = f.UserFactory()
    joined, release = threading.Event(), threading.Event()

    def join():
        with transaction.atomic():
            attach_learner(user=late, contract_id=current.pk, source="code")
            joined.set()
            release.wait(timeout=30)

    joining = InThread(join)
    assert joined.wait(timeout=20)
    renewing = InThread(
        lambda: (
            renew_contract(
                contract_id=current.pk,
                start=date(2027, 1, 1),
                end=date(2027, 12, 31),
                carry_learners=True,
            ).learners_carried
        )
    )
    wait_until(lambda: lock_waiters() >= 1, what="the renewal waits for the joining learner")
    release.set()
    joining.result()

    assert renewing.result() == 3
    renewal = ContractPage.objects.get(renews=current)
    assert set(
        ContractMembership.objects.filter(contract=renewal).values_list("user_id", flat=True)
    ) == set(ContractMembership.objects.filter(contract=current).values_list("user_id", flat=True))
    assert ContractMembership.objects.filter(contract=renewal, user=late).exists()
