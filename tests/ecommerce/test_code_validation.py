"""Every rule of the code validation service, each with its own message."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from ecommerce import exceptions as e
from ecommerce.enums import OrderState, RedemptionType
from ecommerce.models import ContractCodeTerms
from ecommerce.services.code_validation import validate_code
from tests.b2b.helpers import redeem
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(learner):
    contract, (product,) = h.b2b_product(max_learners=3)
    return contract, product, h.code_for(product)


def _validate(learner, code, product):
    return validate_code(user=learner, code=code, products=[product])


def test_valid_code(learner, setup):
    contract, product, code = setup
    valid = _validate(learner, f"  {code.discount_code} ", product)
    assert (valid.discount, valid.contract, valid.product_ids) == (
        code,
        contract,
        frozenset({product.pk}),
    )


def _refusal(learner, code, product):
    with pytest.raises(e.CodeRefused) as caught:
        _validate(learner, code, product)
    return type(caught.value), str(caught.value)


def test_unknown_code(learner, setup):
    _contract, product, _code = setup
    assert _refusal(learner, "not-a-code", product) == (
        e.CodeNotFound,
        "This code does not exist. Check it and try again.",
    )


def test_deactivated_code(learner, setup):
    _contract, product, code = setup
    code.is_active = False
    code.save()
    assert _refusal(learner, code.discount_code, product) == (
        e.CodeInactive,
        "This code has been deactivated.",
    )


def test_code_before_its_activation_date(learner, setup):
    contract, product, code = setup
    ContractCodeTerms.objects.filter(pk=contract.pk).update(
        activation_date=timezone.now() + timedelta(days=2)
    )
    kind, message = _refusal(learner, code.discount_code, product)
    assert kind is e.CodeNotYetValid
    assert message.startswith("This code is not valid until ")


def test_expired_code(learner, setup, settings):
    settings.TIME_ZONE = "UTC"
    contract, product, code = setup
    ContractCodeTerms.objects.filter(pk=contract.pk).update(
        expiration_date=datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    )
    assert _refusal(learner, code.discount_code, product) == (
        e.CodeExpired,
        "This code expired on Jan. 31, 2026, 11:59 p.m.",
    )


def test_code_of_another_product(learner, setup):
    _contract, _product, code = setup
    other = h.plain_product()
    assert _refusal(learner, code.discount_code, other) == (
        e.CodeNotForCart,
        "This code is not valid for the course in your cart.",
    )


def test_code_linked_to_another_contracts_product(learner, setup):
    """A code of contract A, linked by mistake to contract B's product, is still refused."""
    _contract, _product, code = setup
    _other_contract, (other_product,) = h.b2b_product(max_learners=3)
    f.DiscountProductFactory(discount=code, product=other_product)
    assert _refusal(learner, code.discount_code, other_product) == (
        e.CodeForAnotherContract,
        "This code belongs to another organization's contract.",
    )


def test_inactive_contract(learner, setup):
    contract, product, code = setup
    contract.active = False
    contract.save()
    assert _refusal(learner, code.discount_code, product) == (
        e.ContractInactive,
        "The contract this code belongs to is no longer active.",
    )


@pytest.mark.parametrize(
    "dates",
    [
        {"contract_start": date.today() + timedelta(days=1)},
        {"contract_end": date.today() - timedelta(days=1)},
    ],
)
def test_contract_outside_its_dates(learner, setup, dates):
    contract, product, code = setup
    for name, value in dates.items():
        setattr(contract, name, value)
    contract.save()
    assert _refusal(learner, code.discount_code, product) == (
        e.ContractOutsideDates,
        "The contract this code belongs to is not open at this date.",
    )


def test_contract_end_date_is_inclusive(learner, setup):
    contract, product, code = setup
    contract.contract_end = timezone.localdate()
    contract.save()
    assert _validate(learner, code.discount_code, product).discount == code


def test_one_time_code_already_redeemed(learner, setup):
    _contract, product, code = setup
    redeem(code)
    assert _refusal(learner, code.discount_code, product) == (
        e.CodeAlreadyRedeemed,
        "This code has already been used.",
    )


def test_one_time_code_held_by_someone_elses_pending_payment(learner, setup):
    _contract, product, code = setup
    f.OrderFactory(discount=code, state=OrderState.PENDING)
    assert _refusal(learner, code.discount_code, product)[0] is e.CodeInUse
    # The learner's own pending order does not block them...
    code.orders.update(purchaser=learner)
    assert _validate(learner, code.discount_code, product).discount == code


def test_pending_hold_expires(learner, setup):
    _contract, product, code = setup
    order = f.OrderFactory(discount=code, state=OrderState.PENDING)
    type(order).objects.filter(pk=order.pk).update(created_on=timezone.now() - timedelta(hours=3))
    assert _validate(learner, code.discount_code, product).discount == code


def test_one_time_per_user_code(learner, setup):
    _contract, product, code = setup
    code.redemption_type = RedemptionType.ONE_TIME_PER_USER
    code.save()
    redeem(code)  # by someone else: fine
    assert _validate(learner, code.discount_code, product).discount == code
    redeem(code, learner)
    assert _refusal(learner, code.discount_code, product) == (
        e.CodeAlreadyRedeemed,
        "You have already used this code.",
    )


def test_unlimited_code_is_redeemed_many_times(learner):
    _contract, (product,) = h.b2b_product()  # uncapped: one unlimited code
    code = h.code_for(product)
    assert code.redemption_type == RedemptionType.UNLIMITED
    redeem(code)
    redeem(code)
    assert _validate(learner, code.discount_code, product).discount == code


def test_full_contract(learner, setup):
    contract, product, code = setup
    for _ in range(3):
        f.ContractMembershipFactory(contract=contract)
    assert _refusal(learner, code.discount_code, product) == (
        e.ContractFull,
        "The contract this code belongs to has reached its number of learners.",
    )
    # A learner already attached still counts as in.
    f.ContractMembershipFactory.create(contract=contract, user=learner)
    assert _validate(learner, code.discount_code, product).discount == code
