"""Checkout: zero-value orders complete at once; priced ones go to the payment form."""

import html
from decimal import Decimal

import pytest
from django.urls import reverse

from b2b.enums import MembershipSource
from b2b.models import ContractMembership
from courses.enums import EnrollmentMode
from courses.models import CourseRunEnrollment
from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import OrderState
from ecommerce.models import BasketItem, DiscountRedemption, Order
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.cybersource_server import ACCESS_KEY, signature_is_valid

pytestmark = pytest.mark.django_db


def _fill_cart(client, product, code=None):
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    if code is not None:
        response = client.post(reverse("ecommerce:cart-apply-code"), {"code": code.discount_code})
        assert response.status_code == 302, response.content.decode()


def _check_out(client):
    return client.post(reverse("ecommerce:checkout"))


def test_zero_value_b2b_checkout_enrolls_and_attaches(learner_client, learner):
    contract, (product,) = h.b2b_product(max_learners=2)
    code = h.code_for(product)
    _fill_cart(learner_client, product, code)

    response = _check_out(learner_client)

    assert response.status_code == 302
    assert response["Location"] == reverse("ecommerce:dashboard")
    order = Order.objects.get(purchaser=learner)
    assert (order.state, order.total_price_paid, order.discount) == (
        OrderState.FULFILLED,
        Decimal("0.00"),
        code,
    )
    assert list(order.lines.values_list("product_id", "list_price", "total_price")) == [
        (product.pk, Decimal("0.00"), Decimal("0.00"))
    ]
    assert DiscountRedemption.objects.get().redeemed_order == order
    membership = ContractMembership.objects.get(user=learner)
    assert (membership.contract, membership.source) == (contract, MembershipSource.CODE)
    enrollment = CourseRunEnrollment.objects.get(user=learner)
    assert (enrollment.run.b2b_contract, enrollment.mode) == (contract, EnrollmentMode.VERIFIED)
    assert not BasketItem.objects.filter(basket__user=learner).exists()

    dashboard = learner_client.get(response["Location"]).content.decode()
    assert f"Your order is complete. You are enrolled in {enrollment.run.title}." in dashboard
    assert enrollment.run.courseware_id in dashboard


def test_b2b_checkout_without_code_is_refused(learner_client, learner):
    _contract, (product,) = h.b2b_product(max_learners=2)
    _fill_cart(learner_client, product)
    response = _check_out(learner_client)
    assert response["Location"] == reverse("ecommerce:cart")
    page = learner_client.get(response["Location"]).content.decode()
    assert "This course is offered through an organization: apply your enrollment code." in page
    assert not Order.objects.exists()
    assert not CourseRunEnrollment.objects.exists()


def test_code_refused_at_checkout_sends_back_to_the_cart(learner_client, learner):
    _contract, (product,) = h.b2b_product(max_learners=2)
    code = h.code_for(product)
    _fill_cart(learner_client, product, code)
    code.is_active = False
    code.save()
    response = _check_out(learner_client)
    page = learner_client.get(response["Location"]).content.decode()
    assert "This code has been deactivated." in page
    assert not Order.objects.exists()


def test_contract_full_between_apply_and_checkout_writes_nothing(learner_client, learner):
    contract, (product,) = h.b2b_product(max_learners=1)
    code = h.code_for(product)
    _fill_cart(learner_client, product, code)
    f.ContractMembershipFactory(contract=contract)  # someone else took the last seat

    response = _check_out(learner_client)

    page = learner_client.get(response["Location"]).content.decode()
    assert "has reached its number of learners" in page
    assert not Order.objects.exists()
    assert not DiscountRedemption.objects.exists()
    assert not ContractMembership.objects.filter(user=learner).exists()
    assert not CourseRunEnrollment.objects.exists()
    assert BasketItem.objects.filter(basket__user=learner).count() == 1


def test_attach_refusal_rolls_back_everything(learner_client, learner, monkeypatch):
    """The cap is checked again under the contract lock by attach_learner: if it refuses after
    the code's checks passed, nothing is written."""
    from ecommerce.services import code_validation

    contract, (product,) = h.b2b_product(max_learners=1)
    code = h.code_for(product)
    _fill_cart(learner_client, product, code)
    f.ContractMembershipFactory(contract=contract)
    monkeypatch.setattr(code_validation, "_check_contract", lambda discount, user, **_: contract)

    response = _check_out(learner_client)

    page = html.unescape(learner_client.get(response["Location"]).content.decode())
    assert f"Contract {contract.title!r} is full (1 learners). Your enrollment" in page
    assert not Order.objects.exists()
    assert not DiscountRedemption.objects.exists()
    assert not CourseRunEnrollment.objects.exists()


def test_zero_value_non_b2b_product_needs_no_code(learner_client, learner):
    product = h.plain_product("0.00")
    _fill_cart(learner_client, product)
    _check_out(learner_client)
    order = Order.objects.get()
    assert (order.state, order.discount) == (OrderState.FULFILLED, None)
    assert CourseRunEnrollment.objects.get(user=learner).mode == EnrollmentMode.AUDIT
    assert not ContractMembership.objects.exists()


def test_empty_cart(learner_client):
    response = _check_out(learner_client)
    assert "Your cart is empty." in learner_client.get(response["Location"]).content.decode()


def test_priced_checkout_renders_the_signed_payment_form(learner_client, learner, cybersource):
    contract, (product,) = h.b2b_product(max_learners=2, enrollment_fixed_price=Decimal("120"))
    _fill_cart(learner_client, product, h.code_for(product))

    response = _check_out(learner_client)

    assert response.status_code == 200
    payment = response.context["payment"]
    order = response.context["order"]
    assert (order.state, order.total_price_paid) == (OrderState.PENDING, Decimal("120.00"))
    assert order.reference_number == f"b2b-order-{order.pk}"
    assert payment.url == "https://testsecureacceptance.example.com/pay"
    fields = payment.fields
    assert signature_is_valid(fields)
    assert (fields["amount"], fields["reference_number"], fields["access_key"]) == (
        "120.00",
        order.reference_number,
        ACCESS_KEY,
    )
    assert fields["override_custom_receipt_page"] == "http://testserver/checkout/receipt/"
    page = response.content.decode()
    assert 'action="https://testsecureacceptance.example.com/pay"' in page
    assert f'name="signature" value="{fields["signature"]}"' in page
    # Nothing is granted before the payment comes back.
    assert not DiscountRedemption.objects.exists()
    assert not ContractMembership.objects.filter(contract=contract).exists()
    assert not CourseRunEnrollment.objects.exists()


def test_repeated_priced_checkout_reuses_the_pending_order(learner_client, cybersource):
    _contract, (product,) = h.b2b_product(max_learners=2, enrollment_fixed_price=Decimal("120"))
    _fill_cart(learner_client, product, h.code_for(product))
    first = _check_out(learner_client).context["order"]
    second = _check_out(learner_client).context["order"]
    assert first.pk == second.pk
    assert Order.objects.count() == 1


def test_changed_cart_cancels_the_older_pending_order(learner_client, cybersource):
    one, two = h.plain_product("10.00"), h.plain_product("20.00")
    _fill_cart(learner_client, one)
    first = _check_out(learner_client).context["order"]
    _fill_cart(learner_client, two)
    second = _check_out(learner_client).context["order"]
    first.refresh_from_db()
    assert (first.state, first.state_reason) == (
        OrderState.CANCELED,
        "Replaced by a newer checkout.",
    )
    assert (second.state, second.total_price_paid) == (OrderState.PENDING, Decimal("20.00"))


def test_priced_checkout_without_payment_settings(learner_client, settings):
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURE_ACCEPTANCE_URL = None
    _fill_cart(learner_client, h.plain_product("10.00"))
    response = _check_out(learner_client)
    page = learner_client.get(response["Location"]).content.decode()
    assert "Payments are not available right now. Please try again later." in page
    assert not Order.objects.exists()


def test_someone_elses_pending_payment_holds_a_one_time_code(client, cybersource, site_tree):
    _contract, (product,) = h.b2b_product(max_learners=2, enrollment_fixed_price=Decimal("120"))
    code = h.code_for(product)
    first, second = h.learner("first@example.com"), h.learner("second@example.com")
    client.force_login(first)
    _fill_cart(client, product, code)
    assert _check_out(client).status_code == 200

    client.force_login(second)
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    response = client.post(reverse("ecommerce:cart-apply-code"), {"code": code.discount_code})
    assert "This code is being used in another checkout right now." in response.content.decode()
