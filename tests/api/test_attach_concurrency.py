"""Attaching with codes under real parallel connections on PostgreSQL."""

import pytest
from rest_framework.test import APIClient

from b2b.models import ContractMembership
from ecommerce.models import DiscountRedemption
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.races import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _attach(user, code):
    def call():
        client = APIClient()
        client.force_authenticate(user)
        return client.post(f"/api/v1/b2b/attach/{code}/").status_code

    return call


def test_twenty_parallel_attaches_with_one_one_time_code(site_tree, settings):
    settings.CODE_ATTEMPT_LIMIT_PER_ADDRESS = 1000
    _contract, (product,) = h.b2b_product(max_learners=50)
    code = h.code_for(product)
    learners = [f.UserFactory() for _ in range(20)]
    outcomes = race([_attach(user, code.discount_code) for user in learners])
    assert sorted(outcomes) == [201] + [409] * 19
    assert DiscountRedemption.objects.filter(discount=code).count() == 1
    assert ContractMembership.objects.count() == 1


def test_attaches_past_the_cap_are_refused_and_never_exceed_it(site_tree, settings):
    settings.CODE_ATTEMPT_LIMIT_PER_ADDRESS = 1000
    cap = 5
    contract, (product,) = h.b2b_product(max_learners=cap)
    for _ in range(10):
        f.DiscountProductFactory(product=product, discount=f.DiscountFactory(b2b_contract=contract))
    codes = list(product.discounts.order_by("pk"))[: cap + 10]
    learners = [f.UserFactory() for _ in codes]
    outcomes = race([_attach(u, c.discount_code) for u, c in zip(learners, codes, strict=True)])
    assert sorted(outcomes) == [201] * cap + [409] * 10
    assert ContractMembership.objects.filter(contract=contract).count() == cap
