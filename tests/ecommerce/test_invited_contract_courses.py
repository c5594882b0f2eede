"""An invitation is a seat in the whole contract: the invitee who accepts becomes a member and
enrolls in every course of the contract without another code, on one seat. A priced contract
charges per course, at the contract's price; the member checks out its other courses without a
code. Three-course contracts, capped and uncapped, free and priced."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from b2b.enums import InvitationState
from b2b.models import ContractMembership
from b2b.selectors.invitations import invitation_rows
from b2b.services.invitations.invite import invite
from b2b.services.memberships import seats_taken
from courses.models import CourseRunEnrollment
from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import OrderState
from ecommerce.exceptions import CodeRequired, ContractClosed
from ecommerce.models import DiscountRedemption, Order
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.cybersource_server import processor_response
from tests.support.forms import BrowserForm

pytestmark = pytest.mark.django_db

RECEIPT = "/checkout/receipt/"
CAPS = pytest.mark.parametrize("cap", [3, None], ids=["capped", "uncapped"])


def _three_courses(*, cap, price=None):
    terms = {"max_learners": cap}
    if price is not None:
        terms["enrollment_fixed_price"] = Decimal(price)
    contract, products = h.b2b_product(products=3, **terms)
    return contract, products, [p.purchasable_object for p in products]


def _accept(client, invitation):
    """Follow the invitation's link and its accept button, apply the code as rendered, check out."""
    landing = client.get(f"/invitations/{invitation.token}/")
    assert landing.status_code == 200
    accept = BrowserForm(landing.content.decode(), form_id="accept-invitation")
    cart = client.get(reverse("ecommerce:cart-add"), accept.data(), follow=True)
    code = BrowserForm(cart.content.decode(), action=reverse("ecommerce:cart-apply-code"))
    applied = client.post(reverse("ecommerce:cart-apply-code"), code.data(), follow=True)
    assert applied.context["cart"].has_valid_code
    return client.post(reverse("ecommerce:checkout"))


def _pay(response):
    """CyberSource accepts the payment the checkout asked for; returns the paid order."""
    answer = processor_response(response.context["payment"].fields)
    Client(enforce_csrf_checks=True).post(RECEIPT, answer)
    return Order.objects.get(reference_number=answer["req_reference_number"])


def _enrolled_runs(user):
    return set(
        CourseRunEnrollment.objects.filter(user=user, active=True).values_list("run_id", flat=True)
    )


def _one_seat(contract, invitation, learner):
    assert list(
        ContractMembership.objects.filter(contract=contract).values_list("user", flat=True)
    ) == [learner.pk]
    assert seats_taken(contract) == 1
    (row,) = invitation_rows(contract.pk, invitation_ids=[invitation.pk])
    assert (row.state, row.redeemed_by) == (InvitationState.REDEEMED, learner.email)
    assert DiscountRedemption.objects.filter(discount__b2b_contract=contract).count() == 1


@CAPS
def test_the_invitee_of_a_free_contract_enrolls_in_all_three_courses(learner_client, learner, cap):
    contract, _products, runs = _three_courses(cap=cap)
    invitation = invite(contract=contract, email=learner.email, by=None)

    response = _accept(learner_client, invitation)

    assert response["Location"] == reverse("ecommerce:dashboard")
    assert _enrolled_runs(learner) == {runs[0].pk}
    page = learner_client.get(reverse("ecommerce:dashboard")).content.decode()
    for run in runs[1:]:
        form = BrowserForm(page, action=reverse("ecommerce:dashboard-enroll", args=[run.pk]))
        learner_client.post(reverse("ecommerce:dashboard-enroll", args=[run.pk]), form.data())
        page = learner_client.get(reverse("ecommerce:dashboard")).content.decode()
    assert _enrolled_runs(learner) == {run.pk for run in runs}
    assert "Available through your organization" not in page
    _one_seat(contract, invitation, learner)
    assert not Order.objects.exclude(total_price_paid=0).exists()


@CAPS
def test_the_invitee_of_a_priced_contract_pays_per_course_without_another_code(
    learner_client, learner, cybersource, cap
):
    contract, products, runs = _three_courses(cap=cap, price="80")
    invitation = invite(contract=contract, email=learner.email, by=None)

    first = _pay(_accept(learner_client, invitation))
    assert (first.state, first.total_price_paid, first.discount) == (
        OrderState.FULFILLED,
        Decimal("80.00"),
        invitation.code,
    )
    page = learner_client.get(reverse("ecommerce:dashboard")).content.decode()
    for product, run in zip(products[1:], runs[1:], strict=True):
        buy = f"{CART_ADD_PATH}?product_id={product.pk}"
        assert f'href="{settings.SITE_BASE_URL}{buy}"' in page
        assert f"Buy {run.title} for $80.00" in page
        learner_client.get(buy)
        cart = learner_client.get(reverse("ecommerce:cart"))
        assert cart.context["cart"].can_check_out
        assert "An enrollment code is required" not in cart.content.decode()
        order = _pay(learner_client.post(reverse("ecommerce:checkout")))
        assert (order.state, order.total_price_paid, order.discount) == (
            OrderState.FULFILLED,
            Decimal("80.00"),
            None,
        )
        assert [line.product_id for line in order.lines.all()] == [product.pk]
        page = learner_client.get(reverse("ecommerce:dashboard")).content.decode()
    assert _enrolled_runs(learner) == {run.pk for run in runs}
    _one_seat(contract, invitation, learner)


def test_a_non_member_still_needs_a_code(learner_client, learner):
    _contract, products, _runs = _three_courses(cap=3, price="80")
    learner_client.get(f"{CART_ADD_PATH}?product_id={products[1].pk}")
    cart = learner_client.get(reverse("ecommerce:cart"))
    assert not cart.context["cart"].can_check_out
    assert "An enrollment code is required" in cart.content.decode()
    response = learner_client.post(reverse("ecommerce:checkout"), follow=True)
    assert CodeRequired.default_message in response.content.decode()
    assert not Order.objects.exists()


def test_a_member_of_one_contract_cannot_buy_another_contracts_course(learner_client, learner):
    mine, _mine_products, _ = _three_courses(cap=3, price="80")
    _other, other_products, _ = _three_courses(cap=3, price="80")
    f.ContractMembershipFactory(user=learner, contract=mine)
    learner_client.get(f"{CART_ADD_PATH}?product_id={other_products[0].pk}")
    assert not learner_client.get(reverse("ecommerce:cart")).context["cart"].can_check_out
    response = learner_client.post(reverse("ecommerce:checkout"), follow=True)
    assert CodeRequired.default_message in response.content.decode()
    assert not Order.objects.exists()
    assert not ContractMembership.objects.filter(user=learner, contract=_other).exists()


def test_a_member_cannot_check_out_while_the_contract_is_closed(learner_client, learner):
    contract, products, _ = _three_courses(cap=3, price="80")
    f.ContractMembershipFactory(user=learner, contract=contract)
    contract.active = False
    contract.save(update_fields=["active"])
    learner_client.get(f"{CART_ADD_PATH}?product_id={products[0].pk}")
    assert not learner_client.get(reverse("ecommerce:cart")).context["cart"].can_check_out
    response = learner_client.post(reverse("ecommerce:checkout"), follow=True)
    assert escape(ContractClosed.messages["inactive"]) in response.content.decode()
    assert not Order.objects.exists()


def test_a_learner_detached_before_the_payment_is_not_enrolled(
    learner_client, learner, cybersource
):
    contract, products, _ = _three_courses(cap=3, price="80")
    membership = f.ContractMembershipFactory(user=learner, contract=contract)
    learner_client.get(f"{CART_ADD_PATH}?product_id={products[0].pk}")
    checkout = learner_client.post(reverse("ecommerce:checkout"))
    membership.delete()

    order = _pay(checkout)

    assert order.state == OrderState.ERRORED
    assert order.refund_due
    assert not CourseRunEnrollment.objects.filter(user=learner).exists()
    assert not ContractMembership.objects.filter(user=learner).exists()
