"""Every learner-facing request of the checkout path runs a fixed number of queries.

Each test plays one step of the path in a small world and in a large one (more codes per
product, more products and runs in the contract, more learners who already joined, redeemed or
hold a code in a pending order or a cart, more items in the cart) and asserts the same number of
queries, pinned with ``django_assert_num_queries``. A query that grew with any of them would be
a query per code, learner or item under a burst of learners (``make bench-checkout``).
"""

from dataclasses import dataclass

import pytest
from django.urls import reverse

from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import OrderState
from ecommerce.models import Basket, BasketDiscount, BasketItem, Discount, Order, Product
from tests.b2b.helpers import redeem
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.cybersource_server import processor_response

pytestmark = pytest.mark.django_db

SMALL, LARGE = 1, 5
UNUSED = {"redemptions__isnull": True, "orders__isnull": True, "in_baskets__isnull": True}


@dataclass
class World:
    """A contract seen by one learner, with ``size`` times everything around them."""

    client: object
    learner: object
    product: Product
    code: Discount
    extras: list[Product]


def _user():
    """A learner signed in by ``force_login``: no password to hash."""
    return f.UserFactory(password=None)


def _others(contract, products, size):
    """Learners who joined and redeemed codes, hold codes in pending orders and in carts."""
    for index in range(size):
        product = products[index % len(products)]
        joined = _user()
        f.ContractMembershipFactory(user=joined, contract=contract, source="code")
        redeem(h.code_for(product, **UNUSED), joined)
        holder = _user()
        held = h.code_for(product, **UNUSED)
        f.OrderFactory(purchaser=holder, state=OrderState.PENDING, discount=held)
        basket = Basket.objects.create(user=_user())
        BasketItem.objects.create(basket=basket, product=product)
        BasketDiscount.objects.create(
            basket=basket,
            discount=h.code_for(product, **UNUSED),
            redeemed_by=basket.user,
        )


def world(client, *, size: int, price: str | None = None) -> World:
    """A contract of ``size`` products with 10 x ``size`` learners' worth of codes each."""
    terms = {"max_learners": 10 * size}
    if price is not None:
        terms["enrollment_fixed_price"] = price
    contract, products = h.b2b_product(products=size, **terms)
    _others(contract, products, size)
    learner = _user()
    client.force_login(learner)
    extras = [h.plain_product(price or "0.00") for _ in range(size - 1)]
    product = products[-1]
    return World(
        client=client,
        learner=learner,
        product=product,
        code=h.code_for(product, **UNUSED),
        extras=extras,
    )


def add_to_cart(w: World):
    response = w.client.get(f"{CART_ADD_PATH}?product_id={w.product.pk}")
    assert response.status_code == 302, response.content.decode()


def add_items(w: World):
    """More items than the product URL puts in: a cart can hold several."""
    basket, _ = Basket.objects.get_or_create(user=w.learner)
    BasketItem.objects.bulk_create(BasketItem(basket=basket, product=p) for p in w.extras)


def apply_code(w: World):
    response = w.client.post(reverse("ecommerce:cart-apply-code"), {"code": w.code.discount_code})
    assert response.status_code == 302, response.content.decode()


def remove_code(w: World):
    response = w.client.post(reverse("ecommerce:cart-remove-code"))
    assert response.status_code == 302


def view_cart(w: World):
    response = w.client.get(reverse("ecommerce:cart"))
    assert response.status_code == 200
    assert len(response.context["cart"].lines) == 1 + len(w.extras)


def check_out_free(w: World):
    response = w.client.post(reverse("ecommerce:checkout"))
    assert response["Location"] == reverse("ecommerce:dashboard")


def check_out_priced(w: World):
    response = w.client.post(reverse("ecommerce:checkout"))
    assert response.status_code == 200
    w.payment_fields = response.context["payment"].fields


def receipt(w: World):
    data = processor_response(w.payment_fields)
    response = w.client.post(reverse("ecommerce:payment-receipt"), data)
    assert response.status_code == 302
    assert Order.objects.get(purchaser=w.learner).state == OrderState.FULFILLED


def _play(client, steps, *, expected, num_queries, price=None):
    """The last step runs ``expected`` queries in a small world and in a large one (after a
    warm-up world, so that per-process caches such as content types are already filled)."""
    for size, check in ((SMALL, None), (SMALL, num_queries), (LARGE, num_queries)):
        w = world(client, size=size, price=price)
        for step in steps[:-1]:
            step(w)
        if check is None:
            steps[-1](w)
            continue
        with check(expected):
            steps[-1](w)


# A rendered page counts one query for its header's "Manage" link (b2b.context_processors).
FREE_PATH = {
    "add": ([add_items, add_to_cart], 18),
    # Without a code, one more: the contracts of the cart the learner is a member of (the
    # member rule, code_validation.member_refusal).
    "cart-before-code": ([add_to_cart, add_items, view_cart], 8),
    "apply": ([add_to_cart, add_items, apply_code], 20),
    "cart": ([add_to_cart, add_items, apply_code, view_cart], 15),
    "remove": ([add_to_cart, add_items, apply_code, remove_code], 7),
    "checkout-free": ([add_to_cart, add_items, apply_code, check_out_free], 44),
}
PRICED_PATH = {
    "checkout-priced": ([add_to_cart, add_items, apply_code, check_out_priced], 25),
    "receipt": ([add_to_cart, add_items, apply_code, check_out_priced, receipt], 51),
}


@pytest.mark.parametrize("name", FREE_PATH)
def test_free_path_queries_do_not_grow(client, site_tree, django_assert_num_queries, name):
    steps, expected = FREE_PATH[name]
    _play(client, steps, expected=expected, num_queries=django_assert_num_queries)


@pytest.mark.parametrize("name", PRICED_PATH)
def test_priced_path_queries_do_not_grow(
    client, site_tree, cybersource, django_assert_num_queries, name
):
    steps, expected = PRICED_PATH[name]
    _play(
        client,
        steps,
        expected=expected,
        num_queries=django_assert_num_queries,
        price="100.00",
    )
