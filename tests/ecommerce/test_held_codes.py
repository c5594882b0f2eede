"""A code a learner is paying with survives reconciliation, and a paid order is never lost.

The operator lowers a contract's cap (or makes an SSO contract free and uncapped) while a learner
is at the payment processor; CyberSource's signed ACCEPT then comes back to the receipt address.
"""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from b2b.enums import MembershipSource
from b2b.models import ContractCodeStatus, ContractMembership
from courses.models import CourseRunEnrollment
from ecommerce.constants import CART_ADD_PATH, PENDING_ORDER_HOLD
from ecommerce.enums import OrderState
from ecommerce.models import BasketDiscount, Discount, DiscountRedemption, Order, Transaction
from tests.b2b.helpers import reconcile
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.cybersource_server import processor_response
from tests.support.forms import BrowserForm, page_errors

pytestmark = pytest.mark.django_db

RECEIPT = "/checkout/receipt/"


@pytest.fixture
def priced(site_tree, cybersource):
    """A $100 non-SSO contract for 3 learners, one run: (contract, product, codes by age)."""
    contract, (product,) = h.b2b_product(max_learners=3, enrollment_fixed_price=Decimal("100"))
    return contract, product, list(Discount.objects.filter(b2b_contract=contract).order_by("pk"))


def _browser(email):
    client = Client()
    client.force_login(h.learner(email))
    return client


def _check_out(client, product, code):
    """What the learner's browser does: the product URL, the code form, the checkout button.
    Returns the signed fields the payment page posts to CyberSource."""
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    applied = client.post(reverse("ecommerce:cart-apply-code"), {"code": code.discount_code})
    assert applied.status_code == 302
    response = client.post(reverse("ecommerce:checkout"))
    assert response.status_code == 200
    return response.context["payment"].fields


def _operator(*args, django_capture_on_commit_callbacks):
    """``manage.py b2b_contract ...`` with its queued work run after commit (no broker)."""
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("b2b_contract", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _accept(fields):
    """CyberSource posts the signed ACCEPT from its own site: no session, no CSRF token."""
    response = Client(enforce_csrf_checks=True).post(RECEIPT, processor_response(fields))
    assert response.status_code == 302
    return response


def _active(codes):
    return [
        Discount.objects.get(pk=code.pk).is_active if Discount.objects.filter(pk=code.pk) else None
        for code in codes
    ]


def _age(order, by=PENDING_ORDER_HOLD + timedelta(minutes=1)):
    """Move the order, and the code its learner applied in their cart, back past the hold."""
    then = timezone.now() - by
    Order.objects.filter(pk=order.pk).update(created_on=then)
    BasketDiscount.objects.filter(redeemed_by=order.purchaser).update(created_on=then)


def test_lowering_the_cap_keeps_the_code_of_a_payment_in_progress(
    priced, django_capture_on_commit_callbacks
):
    contract, product, codes = priced
    ada = _browser("ada@example.com")
    fields = _check_out(ada, product, codes[2])  # the newest code, which used to go first

    _operator(
        "modify",
        str(contract.pk),
        "--max-learners",
        "1",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    assert _active(codes) == [False, False, True]  # the two unheld codes went instead
    assert not ContractCodeStatus.objects.get(pk=contract.pk).is_pending

    _accept(fields)

    order = Order.objects.get()
    assert (order.state, order.refund_due) == (OrderState.FULFILLED, False)
    membership = ContractMembership.objects.get()
    assert (membership.user.email, membership.contract, membership.source) == (
        "ada@example.com",
        contract,
        MembershipSource.PURCHASE,
    )
    assert CourseRunEnrollment.objects.get().user.email == "ada@example.com"
    assert DiscountRedemption.objects.get().discount == codes[2]


def test_more_payments_in_progress_than_seats(priced, django_capture_on_commit_callbacks):
    contract, product, codes = priced
    ada, bob = _browser("ada@example.com"), _browser("bob@example.com")
    ada_fields = _check_out(ada, product, codes[1])
    bob_fields = _check_out(bob, product, codes[2])

    dry = _operator(
        "modify",
        str(contract.pk),
        "--max-learners",
        "1",
        "--dry-run",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    assert "  keep 1 code held by a payment in progress (deactivated once it is settled)" in (
        dry.splitlines()
    )
    _operator(
        "modify",
        str(contract.pk),
        "--max-learners",
        "1",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    # Neither held code is taken; one code too many stays until the payments are settled, and
    # the contract shows its codes as pending meanwhile.
    assert _active(codes) == [False, True, True]
    assert ContractCodeStatus.objects.get(pk=contract.pk).is_pending

    _accept(ada_fields)
    response = _accept(bob_fields)

    ada_order, bob_order = Order.objects.order_by("pk")
    assert (ada_order.state, ada_order.refund_due) == (OrderState.FULFILLED, False)
    assert (bob_order.state, bob_order.refund_due) == (OrderState.ERRORED, True)
    assert bob_order.refund_reason == (
        "Paid $100.00 but not enrolled: The contract this code belongs to has reached its "
        "number of learners."
    )
    assert list(ContractMembership.objects.values_list("user__email", flat=True)) == [
        "ada@example.com"
    ]
    assert Transaction.objects.filter(order=bob_order).get().amount == Decimal("100.00")
    page = bob.get(response["Location"]).content.decode()
    assert "Refund due." in page
    assert "We owe you a refund of $100.00" in page

    # Both payments are settled, but Bob's cart still holds his code: it stays until the hold
    # ends, and the reconciliation that runs then takes it.
    reconcile(contract)
    assert _active(codes) == [False, True, True]
    assert ContractCodeStatus.objects.get(pk=contract.pk).is_pending
    _age(bob_order)
    reconcile(contract)
    assert _active(codes) == [False, True, False]
    assert not ContractCodeStatus.objects.get(pk=contract.pk).is_pending


def test_a_paid_order_whose_code_was_deactivated_is_fulfilled_when_there_is_room(
    priced, django_capture_on_commit_callbacks
):
    contract, product, codes = priced
    ada = _browser("ada@example.com")
    fields = _check_out(ada, product, codes[2])
    _age(Order.objects.get())  # past the hold: reconciliation may take the code

    _operator(
        "modify",
        str(contract.pk),
        "--max-learners",
        "1",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    assert _active(codes) == [True, False, False]

    _accept(fields)

    order = Order.objects.get()
    assert (order.state, order.refund_due, order.state_reason) == (OrderState.FULFILLED, False, "")
    assert ContractMembership.objects.get().user.email == "ada@example.com"
    assert CourseRunEnrollment.objects.get().user.email == "ada@example.com"


def test_a_paid_order_whose_code_was_deleted_is_fulfilled_when_there_is_room(priced):
    contract, product, codes = priced
    ada = _browser("ada@example.com")
    fields = _check_out(ada, product, codes[2])
    staff = Client()
    staff.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    deleted = staff.post(
        reverse("admin:ecommerce_discount_delete", args=[codes[2].pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert Order.objects.get().discount is None

    _accept(fields)

    order = Order.objects.get()
    assert (order.state, order.refund_due) == (OrderState.FULFILLED, False)
    membership = ContractMembership.objects.get()
    assert (membership.user.email, membership.contract) == ("ada@example.com", contract)


def test_a_paid_order_whose_code_is_gone_and_contract_full_is_marked_for_refund(
    priced, django_capture_on_commit_callbacks
):
    contract, product, codes = priced
    ada = _browser("ada@example.com")
    fields = _check_out(ada, product, codes[2])
    _age(Order.objects.get())
    _operator(
        "modify",
        str(contract.pk),
        "--max-learners",
        "1",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    f.ContractMembershipFactory(contract=contract)  # the last seat is taken meanwhile
    paid_and_fine = f.OrderFactory(state=OrderState.FULFILLED)

    response = _accept(fields)

    order = Order.objects.get(purchaser__email="ada@example.com")
    assert (order.state, order.refund_due) == (OrderState.ERRORED, True)
    assert order.refund_reason == (
        "Paid $100.00 but not enrolled: The contract this code belongs to has reached its "
        "number of learners."
    )
    assert order.state_reason == (
        "Your payment was received but you could not be enrolled: The contract this code "
        "belongs to has reached its number of learners. Contact support for a refund."
    )
    assert not CourseRunEnrollment.objects.filter(user=order.purchaser).exists()
    page = ada.get(response["Location"]).content.decode()
    assert "Refund due." in page
    assert "We owe you a refund of $100.00" in page
    orders = ada.get(reverse("ecommerce:order-list")).content.decode()
    assert '<td data-label="Status">Errored, refund due</td>' in orders

    staff = Client()
    staff.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    listing = staff.get(reverse("admin:ecommerce_order_changelist"), {"refund_due__exact": "1"})
    html = listing.content.decode()
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [order]
    assert "Refund due" in html  # the column and the filter
    assert f'href="/admin/ecommerce/order/{order.pk}/change/' in html
    assert f'href="/admin/ecommerce/order/{paid_and_fine.pk}/change/' not in html
    assert "Paid $100.00 but not enrolled: The contract this code belongs to" in html


def test_a_code_applied_in_a_basket_is_not_deactivated(priced, django_capture_on_commit_callbacks):
    contract, product, codes = priced
    ada = _browser("ada@example.com")
    ada.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    ada.post(reverse("ecommerce:cart-apply-code"), {"code": codes[2].discount_code})

    _operator(
        "modify",
        str(contract.pk),
        "--max-learners",
        "1",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    assert _active(codes) == [False, False, True]
    cart = ada.get(reverse("ecommerce:cart")).content.decode()
    assert "This code has been deactivated." not in cart


def test_sso_free_uncapped_deletion_skips_held_codes(site_tree, cybersource):
    contract, (product,) = h.b2b_product(
        integration_type="sso", max_learners=3, enrollment_fixed_price=Decimal("100")
    )
    codes = list(Discount.objects.filter(b2b_contract=contract).order_by("pk"))
    ada, bob = _browser("ada@example.com"), _browser("bob@example.com")
    ada_fields = _check_out(ada, product, codes[2])
    _check_out(bob, product, codes[1])
    bob_order = Order.objects.get(purchaser__email="bob@example.com")
    _age(bob_order)  # an abandoned payment, past the hold

    out = io.StringIO()
    call_command(
        "b2b_contract",
        "modify",
        str(contract.pk),
        "--no-price",
        "--no-learner-cap",
        stdout=out,
        stderr=io.StringIO(),
    )
    reconcile(contract)

    # The unused code is deleted; Ada's held code stays as it was; Bob's abandoned order keeps
    # its code, deactivated instead of deleted.
    assert _active(codes) == [None, False, True]
    bob_order.refresh_from_db()
    assert bob_order.discount_id == codes[1].pk
    assert Order.objects.get(purchaser__email="ada@example.com").discount_id == codes[2].pk
    assert ContractCodeStatus.objects.get(pk=contract.pk).is_pending

    _accept(ada_fields)

    ada_order = Order.objects.get(purchaser__email="ada@example.com")
    assert (ada_order.state, ada_order.refund_due) == (OrderState.FULFILLED, False)
    assert ContractMembership.objects.get().user.email == "ada@example.com"

    reconcile(contract)  # settled: the redeemed code stays, nothing is left to delete
    assert _active(codes) == [None, False, True]
    assert not ContractCodeStatus.objects.get(pk=contract.pk).is_pending


def test_staff_settle_a_refund_in_the_admin(site_tree):
    """What the operator guide tells staff: refund, then mark the order refunded."""
    order = f.OrderFactory(
        state=OrderState.ERRORED,
        total_price_paid=Decimal("100.00"),
        refund_due=True,
        refund_reason="Paid $100.00 but not enrolled: full.",
    )
    staff = Client()
    staff.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:ecommerce_order_change", args=[order.pk])
    form = BrowserForm(staff.get(url).content.decode(), form_id="order_form")
    data = form.data(submit="_save")
    assert data.pop("refund_due") == ["on"]  # staff clear the box...
    data["state"] = [OrderState.REFUNDED]  # ...and choose "Refunded"

    response = staff.post(url, data)

    assert response.status_code == 302, page_errors(response.content.decode())
    order.refresh_from_db()
    assert (order.state, order.refund_due) == (OrderState.REFUNDED, False)
    listing = staff.get(reverse("admin:ecommerce_order_changelist"), {"refund_due__exact": "1"})
    assert listing.context["cl"].result_count == 0


def test_a_repeated_accept_never_enrolls_a_refunded_order(priced):
    """CyberSource may post the same ACCEPT again (receipt and back office, retries): once staff
    have refunded the order, a seat that frees up later must not enroll the learner for free."""
    contract, product, codes = priced
    ada = _browser("ada@example.com")
    fields = _check_out(ada, product, codes[2])
    for _ in range(3):
        f.ContractMembershipFactory(contract=contract)  # full before the payment comes back
    answer = processor_response(fields)
    Client(enforce_csrf_checks=True).post(RECEIPT, answer)
    order = Order.objects.get(purchaser__email="ada@example.com")
    assert (order.state, order.refund_due) == (OrderState.ERRORED, True)
    Order.objects.filter(pk=order.pk).update(state=OrderState.REFUNDED, refund_due=False)
    ContractMembership.objects.filter(contract=contract).first().delete()  # a seat frees up

    repeated = Client().post(reverse("ecommerce:payment-backoffice"), answer)

    assert repeated.status_code == 200
    order.refresh_from_db()
    assert (order.state, order.refund_due) == (OrderState.REFUNDED, False)
    assert not ContractMembership.objects.filter(user=order.purchaser).exists()
    assert not CourseRunEnrollment.objects.filter(user=order.purchaser).exists()


def test_a_repeated_accept_that_finds_room_clears_the_refund_due(priced):
    contract, product, codes = priced
    ada = _browser("ada@example.com")
    fields = _check_out(ada, product, codes[2])
    seats = [f.ContractMembershipFactory(contract=contract) for _ in range(3)]
    answer = processor_response(fields)
    Client(enforce_csrf_checks=True).post(RECEIPT, answer)
    seats[0].delete()  # a seat frees up before staff refund

    Client().post(reverse("ecommerce:payment-backoffice"), answer)

    order = Order.objects.get(purchaser__email="ada@example.com")
    assert (order.state, order.refund_due, order.refund_reason) == (
        OrderState.FULFILLED,
        False,
        "",
    )
    assert ContractMembership.objects.filter(user=order.purchaser).exists()
