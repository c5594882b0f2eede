"""CyberSource's response at the receipt address: verified, then fulfilled or declined."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from b2b.enums import MembershipSource
from b2b.models import ContractMembership
from courses.enums import EnrollmentMode
from courses.models import CourseRunEnrollment
from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import OrderState
from ecommerce.models import BasketItem, DiscountRedemption, Order, Transaction
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.cybersource_server import processor_response

pytestmark = pytest.mark.django_db

RECEIPT = "/checkout/receipt/"


@pytest.fixture
def paying(learner_client, learner, cybersource):
    """A learner at the payment page for a $120 contract run; returns (contract, code, fields)."""
    contract, (product,) = h.b2b_product(max_learners=2, enrollment_fixed_price=Decimal("120"))
    code = h.code_for(product)
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    learner_client.post(reverse("ecommerce:cart-apply-code"), {"code": code.discount_code})
    response = learner_client.post(reverse("ecommerce:checkout"))
    return contract, code, response.context["payment"].fields


def _post_back(response_fields, client=None):
    """CyberSource posts from its own site: no session, no CSRF token."""
    client = client or Client(enforce_csrf_checks=True)
    return client.post(RECEIPT, response_fields)


def test_accept_fulfils_the_order(paying, learner, learner_client):
    contract, code, fields = paying
    answer = processor_response(fields)

    response = _post_back(answer)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ecommerce:order-detail", args=[order.pk])
    assert order.state == OrderState.FULFILLED
    assert DiscountRedemption.objects.get().discount == code
    membership = ContractMembership.objects.get(user=learner)
    assert (membership.contract, membership.source) == (contract, MembershipSource.PURCHASE)
    assert CourseRunEnrollment.objects.get(user=learner).mode == EnrollmentMode.VERIFIED
    payment = Transaction.objects.get()
    assert (payment.order, payment.transaction_id, payment.amount) == (
        order,
        answer["transaction_id"],
        Decimal("120.00"),
    )
    assert payment.data["decision"] == "ACCEPT"
    assert not BasketItem.objects.filter(basket__user=learner).exists()
    page = learner_client.get(response["Location"]).content.decode()
    assert "Complete." in page
    assert answer["transaction_id"] in page


def test_accept_twice_is_harmless(paying):
    _contract, _code, fields = paying
    answer = processor_response(fields)
    _post_back(answer)
    backoffice = Client().post(reverse("ecommerce:payment-backoffice"), answer)
    assert backoffice.status_code == 200
    assert Order.objects.get().state == OrderState.FULFILLED
    assert DiscountRedemption.objects.count() == 1
    assert Transaction.objects.count() == 1


@pytest.mark.parametrize(
    ("decision", "message", "reason"),
    [
        ("DECLINE", "Insufficient funds", "Your payment was declined (Insufficient funds)."),
        ("CANCEL", "", "You canceled the payment."),
        ("ERROR", "General system failure", "The payment processor reported an error"),
    ],
)
def test_unsuccessful_payment_declines_and_releases_the_code(
    paying, learner_client, decision, message, reason
):
    _contract, code, fields = paying
    response = _post_back(processor_response(fields, decision=decision, message=message))

    order = Order.objects.get()
    assert order.state == OrderState.DECLINED
    assert order.state_reason.startswith(reason)
    assert not DiscountRedemption.objects.exists()
    assert not ContractMembership.objects.exists()
    assert not CourseRunEnrollment.objects.exists()
    page = learner_client.get(response["Location"]).content.decode()
    assert reason in page
    assert "Your enrollment code is free to use again" in page

    # Released: another learner may now use the one-time code.
    other = Client()
    other.force_login(h.learner("next@example.com"))
    product = code.products.get()
    other.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    applied = other.post(reverse("ecommerce:cart-apply-code"), {"code": code.discount_code})
    assert applied.status_code == 302


def test_review_leaves_the_order_pending(paying):
    _contract, _code, fields = paying
    _post_back(processor_response(fields, decision="REVIEW"))
    order = Order.objects.get()
    assert (order.state, order.state_reason) == (
        OrderState.PENDING,
        "Your payment is being reviewed by the payment processor.",
    )


def test_forged_signature_is_rejected_and_changes_nothing(paying):
    _contract, _code, fields = paying
    forged = processor_response(fields, key="not-our-key")
    response = _post_back(forged)
    assert response.status_code == 403
    assert "The payment response could not be verified." in response.content.decode()
    assert Order.objects.get().state == OrderState.PENDING
    assert not Transaction.objects.exists()
    assert not CourseRunEnrollment.objects.exists()


def test_tampered_signed_field_is_rejected(paying):
    _contract, _code, fields = paying
    answer = processor_response(fields, decision="DECLINE")
    answer["decision"] = "ACCEPT"  # flipped after signing
    assert _post_back(answer).status_code == 403
    assert Order.objects.get().state == OrderState.PENDING


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.pop("signature"),
        lambda d: d.pop("signed_field_names"),
        lambda d: d.update(signed_field_names="req_amount"),  # decision not signed
    ],
)
def test_unsigned_or_malformed_responses_are_rejected(paying, mangle):
    _contract, _code, fields = paying
    answer = processor_response(fields)
    mangle(answer)
    assert _post_back(answer).status_code == 403
    assert Order.objects.get().state == OrderState.PENDING


def test_response_for_an_unknown_order(paying):
    _contract, _code, fields = paying
    answer = processor_response({**fields, "reference_number": "b2b-order-999999"})
    assert _post_back(answer).status_code == 404


def test_amount_that_does_not_match_the_order_is_not_fulfilled(paying):
    _contract, _code, fields = paying
    _post_back(processor_response({**fields, "amount": "1.00"}))
    order = Order.objects.get()
    assert (order.state, order.state_reason) == (
        OrderState.ERRORED,
        "The amount paid does not match the order. Contact support.",
    )
    assert not CourseRunEnrollment.objects.exists()


def test_contract_full_when_the_payment_comes_back(paying, learner_client):
    contract, _code, fields = paying
    for _ in range(2):
        f.ContractMembershipFactory(contract=contract)
    response = _post_back(processor_response(fields))
    order = Order.objects.get()
    assert order.state == OrderState.ERRORED
    assert "Your payment was received but you could not be enrolled" in order.state_reason
    assert not DiscountRedemption.objects.exists()
    assert not CourseRunEnrollment.objects.exists()
    assert Transaction.objects.get().order == order  # the payment is on record for the refund
    assert (
        "Contact support for a refund." in learner_client.get(response["Location"]).content.decode()
    )
