"""The learner cap holds under real parallel connections on PostgreSQL."""

from functools import partial

import pytest

from b2b.exceptions import MembershipRefused
from b2b.models import ContractMembership
from b2b.services.memberships import attach_learner
from tests.support import factories as f
from tests.support.races import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_cap_n_with_n_plus_ten_learners_racing(site_tree):
    cap = 8
    contract = f.ContractPageFactory(max_learners=cap)
    users = [f.UserFactory() for _ in range(cap + 10)]
    outcomes = race(
        [partial(attach_learner, user=u, contract_id=contract.pk, source="code") for u in users]
    )
    refused = [o for o in outcomes if isinstance(o, MembershipRefused)]
    unexpected = [o for o in outcomes if isinstance(o, Exception) and o not in refused]
    assert unexpected == []
    assert (len(outcomes) - len(refused), len(refused)) == (cap, 10)
    assert ContractMembership.objects.filter(contract=contract).count() == cap
