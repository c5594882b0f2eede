"""A contract's codes sell at its terms row: a price or date change, which writes that one row,
is what the cart, checkout and payment use at once (issue 13)."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import OrderState
from ecommerce.models import ContractCodeTerms, Discount, Order
from ecommerce.services.baskets import add_product_to_basket, apply_code_to_basket
from ecommerce.services.checkout import check_out
from tests.b2b.helpers import change
from tests.ecommerce import helpers as h

URLS = h.PAYMENT_URLS


@pytest.mark.django_db
def test_checkout_after_a_price_change_charges_the_new_price(learner_client, cybersource):
    contract, (product,) = h.b2b_product(max_learners=2, enrollment_fixed_price=Decimal("50.00"))
    code = h.code_for(product)
    change(contract, enrollment_fixed_price=Decimal("80.00"))
    code.refresh_from_db()
    assert code.amount is None  # the code itself was not rewritten
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    response = learner_client.post(
        reverse("ecommerce:cart-apply-code"), {"code": code.discount_code}
    )
    assert response.status_code == 302
    assert "80.00" in learner_client.get(reverse("ecommerce:cart")).content.decode()
    response = learner_client.post(reverse("ecommerce:checkout"))
    assert response.status_code == 200
    assert response.context["payment"].fields["amount"] == "80.00"
    order = Order.objects.get()
    assert (order.state, order.total_price_paid) == (OrderState.PENDING, Decimal("80.00"))
    assert list(order.lines.values_list("total_price", flat=True)) == [Decimal("80.00")]


@pytest.mark.django_db
def test_a_code_outside_the_contracts_new_dates_is_refused_at_apply_and_checkout(
    learner_client, learner
):
    today = timezone.localdate()
    contract, (product,) = h.b2b_product(
        max_learners=2, contract_start=today - timedelta(days=5), contract_end=today + timedelta(5)
    )
    code = h.code_for(product)
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    response = learner_client.post(
        reverse("ecommerce:cart-apply-code"), {"code": code.discount_code}
    )
    assert response.status_code == 302  # applied while the contract's dates hold
    change(contract, contract_end=today - timedelta(days=1))
    response = learner_client.post(reverse("ecommerce:checkout"), follow=True)
    page = response.content.decode()
    assert "This code expired on " in page
    assert not Order.objects.exists()
    response = learner_client.post(
        reverse("ecommerce:cart-apply-code"), {"code": code.discount_code}, follow=True
    )
    assert "This code expired on " in response.content.decode()
    later = date.today() + timedelta(days=30)
    change(contract, contract_start=later, contract_end=later + timedelta(days=30))
    response = learner_client.post(
        reverse("ecommerce:cart-apply-code"), {"code": code.discount_code}, follow=True
    )
    assert "This code is not valid until " in response.content.decode()
    assert not Order.objects.exists()
    assert ContractCodeTerms.objects.get(pk=contract.pk).activation_date.date() == later


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_price_change_during_checkouts_charges_each_order_one_price(site_tree, cybersource):
    """Learners check out while an operator changes the price (the change and its
    reconciliation, which writes the terms row, on their own connection): every order is at the
    old or the new price throughout (order, lines, payment form), never a mix."""
    old, new = Decimal("50.00"), Decimal("80.00")
    contract, (product,) = h.b2b_product(max_learners=8, enrollment_fixed_price=old)
    learners = []
    codes = list(Discount.objects.filter(product_links__product=product).order_by("pk"))
    for i, code in enumerate(codes[:6]):
        user = h.learner(f"racer{i}@example.com")
        add_product_to_basket(user=user, product_id=product.pk)
        apply_code_to_basket(user=user, code=code.discount_code)
        learners.append(user)
    barrier = threading.Barrier(len(learners) + 1)
    outcomes: list = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait(timeout=30)
            result = call()
        except Exception as exc:  # asserted on below
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    calls = [lambda u=u: check_out(user=u, ip_address="127.0.0.1", urls=URLS) for u in learners]
    calls.append(lambda: change(contract, enrollment_fixed_price=new))
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    checkouts = [o for o in outcomes if hasattr(o, "payment")]
    assert len(checkouts) == len(learners)
    for outcome in checkouts:
        order = Order.objects.get(pk=outcome.order.pk)
        assert order.total_price_paid in (old, new)
        lines = list(order.lines.values_list("total_price", flat=True))
        assert lines == [order.total_price_paid]
        assert outcome.payment.fields["amount"] == str(order.total_price_paid)
    assert ContractCodeTerms.objects.get(pk=contract.pk).amount == new
