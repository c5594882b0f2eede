"""The learner cap holds under real parallel connections on PostgreSQL."""

import threading

import pytest
from django.db import connection

from b2b.exceptions import MembershipRefused
from b2b.models import ContractMembership
from b2b.services.memberships import attach_learner
from tests.support import factories as f

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_cap_n_with_n_plus_ten_learners_racing(site_tree):
    cap = 8
    contract = f.ContractPageFactory(max_learners=cap)
    users = [f.UserFactory() for _ in range(cap + 10)]
    barrier = threading.Barrier(len(users))
    outcomes = []

    def join(user):
        try:
            barrier.wait(timeout=20)
            attach_learner(user=user, contract_id=contract.pk, source="code")
            outcomes.append("joined")
        except MembershipRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["joined"] * cap + ["refused"] * 10
    assert ContractMembership.objects.filter(contract=contract).count() == cap
