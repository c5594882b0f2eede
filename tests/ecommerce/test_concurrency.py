"""Checkout under real parallel connections on PostgreSQL: codes and caps hold."""

from decimal import Decimal

import pytest

from b2b.models import ContractMembership
from courses.models import CourseRunEnrollment
from ecommerce.enums import OrderState
from ecommerce.exceptions import (
    CodeAlreadyRedeemed,
    ContractFull,
    ContractRefused,
    EcommerceError,
    EmptyBasket,
)
from ecommerce.models import DiscountRedemption, Order
from ecommerce.services.baskets import add_product_to_basket, apply_code_to_basket
from ecommerce.services.checkout import CheckoutOutcome, check_out
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.races import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

URLS = h.PAYMENT_URLS


def _kinds(outcomes):
    return sorted(type(outcome).__name__ for outcome in outcomes)


def _ready_to_check_out(user, product, code):
    add_product_to_basket(user=user, product_id=product.pk)
    apply_code_to_basket(user=user, code=code.discount_code)


def _checkout_call(user):
    return lambda: check_out(user=user, ip_address="127.0.0.1", urls=URLS)


def test_twenty_learners_racing_for_one_one_time_code(site_tree):
    _contract, (product,) = h.b2b_product(max_learners=50)
    code = h.code_for(product)
    learners = [h.learner() for _ in range(20)]
    for user in learners:
        _ready_to_check_out(user, product, code)

    outcomes = race([_checkout_call(user) for user in learners])

    assert _kinds(outcomes) == ["CheckoutOutcome"] + ["CodeAlreadyRedeemed"] * 19
    winner = next(o for o in outcomes if isinstance(o, CheckoutOutcome)).order.purchaser
    assert list(Order.objects.values_list("purchaser", "state")) == [
        (winner.pk, OrderState.FULFILLED)
    ]
    assert DiscountRedemption.objects.filter(discount=code).count() == 1
    assert list(ContractMembership.objects.values_list("user", flat=True)) == [winner.pk]
    assert list(CourseRunEnrollment.objects.values_list("user", flat=True)) == [winner.pk]
    assert all(
        str(o) == str(CodeAlreadyRedeemed()) for o in outcomes if isinstance(o, EcommerceError)
    )


def test_cap_n_with_n_plus_ten_learners_racing_with_distinct_codes(site_tree):
    cap = 6
    contract, (product,) = h.b2b_product(max_learners=cap)
    for _ in range(10):  # more codes than seats (e.g. handed out before the cap was lowered)
        f.DiscountProductFactory(product=product, discount=f.DiscountFactory(b2b_contract=contract))
    codes = list(product.discounts.order_by("pk"))
    learners = [h.learner() for _ in range(cap + 10)]
    assert len(codes) == len(learners)
    for user, code in zip(learners, codes, strict=True):
        _ready_to_check_out(user, product, code)

    outcomes = race([_checkout_call(user) for user in learners])

    done = [o for o in outcomes if isinstance(o, CheckoutOutcome)]
    refused = [o for o in outcomes if not isinstance(o, CheckoutOutcome)]
    assert len(done) == cap
    # Refused under the contract's lock (attach_learner), or by the code's checks when the
    # seats were already taken by then.
    assert all(isinstance(o, ContractRefused | ContractFull) for o in refused), refused
    assert len(refused) == 10
    assert ContractMembership.objects.filter(contract=contract).count() == cap
    assert Order.objects.filter(state=OrderState.FULFILLED).count() == cap
    assert Order.objects.count() == cap  # the refused checkouts wrote nothing
    assert DiscountRedemption.objects.count() == cap
    assert CourseRunEnrollment.objects.count() == cap


def test_one_learner_double_submitting_a_free_checkout(site_tree):
    _contract, (product,) = h.b2b_product(max_learners=5)
    user = h.learner()
    _ready_to_check_out(user, product, h.code_for(product))

    outcomes = race([_checkout_call(user) for _ in range(5)])

    assert _kinds(outcomes) == ["CheckoutOutcome"] + ["EmptyBasket"] * 4
    assert all(str(o) == str(EmptyBasket()) for o in outcomes if isinstance(o, EmptyBasket))
    assert list(Order.objects.values_list("state", flat=True)) == [OrderState.FULFILLED]
    assert DiscountRedemption.objects.count() == 1
    assert CourseRunEnrollment.objects.count() == 1


def test_one_learner_double_submitting_a_paid_checkout(site_tree, cybersource):
    _contract, (product,) = h.b2b_product(max_learners=5, enrollment_fixed_price=Decimal("80"))
    user = h.learner()
    _ready_to_check_out(user, product, h.code_for(product))

    outcomes = race([_checkout_call(user) for _ in range(5)])

    assert _kinds(outcomes) == ["CheckoutOutcome"] * 5
    assert {o.order.pk for o in outcomes} == set(Order.objects.values_list("pk", flat=True))
    assert list(Order.objects.values_list("state", "total_price_paid")) == [
        (OrderState.PENDING, Decimal("80.00"))
    ]
