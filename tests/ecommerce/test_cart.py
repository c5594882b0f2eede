"""The cart pages: the product URL, the code form, and when the checkout button shows."""

from decimal import Decimal

import pytest
from django.urls import reverse

from b2b.services.codes.export import product_url
from ecommerce.constants import CART_ADD_PATH
from ecommerce.models import BasketDiscount, BasketItem
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db

CHECKOUT_BUTTON = b">Check out</button>"


def test_cart_add_is_the_csv_product_url(settings):
    settings.SITE_BASE_URL = "https://learn.example.edu"
    assert reverse("ecommerce:cart-add") == CART_ADD_PATH
    assert product_url(7) == f"https://learn.example.edu{CART_ADD_PATH}?product_id=7"


def test_cart_add_needs_sign_in_and_comes_back(client, site_tree):
    response = client.get(f"{CART_ADD_PATH}?product_id=3")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/cart/add/%3Fproduct_id%3D3"


def test_cart_add_replaces_the_content_and_drops_the_code(learner_client, learner):
    old = h.plain_product()
    basket = f.BasketFactory(user=learner)
    f.BasketItemFactory(basket=basket, product=old)
    f.BasketDiscountFactory(basket=basket)
    _contract, (product,) = h.b2b_product(max_learners=2)

    response = learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")

    assert response.status_code == 302
    assert response["Location"] == reverse("ecommerce:cart")
    assert list(BasketItem.objects.filter(basket=basket).values_list("product_id", "quantity")) == [
        (product.pk, 1)
    ]
    assert not BasketDiscount.objects.filter(basket=basket).exists()


@pytest.mark.parametrize("query", ["product_id=999999", "product_id=abc", ""])
def test_cart_add_unknown_product(learner_client, query):
    response = learner_client.get(f"{CART_ADD_PATH}?{query}")
    assert response.status_code == 404
    assert b"Course not available" in response.content


def test_cart_add_inactive_product(learner_client, learner):
    product = h.plain_product()
    product.is_active = False
    product.save()
    response = learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    assert response.status_code == 404
    assert "This product does not exist or is no longer available." in response.content.decode()
    assert not BasketItem.objects.filter(basket__user=learner).exists()


def test_b2b_cart_needs_a_code_before_the_checkout_button(learner_client):
    _contract, (product,) = h.b2b_product(max_learners=2)
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")

    page = learner_client.get(reverse("ecommerce:cart")).content.decode()
    assert "An enrollment code is required" in page
    assert CHECKOUT_BUTTON.decode() not in page
    assert 'data-testid="cart-total">$0.00<' in page

    code = h.code_for(product)
    response = learner_client.post(
        reverse("ecommerce:cart-apply-code"), {"code": code.discount_code}
    )
    assert response.status_code == 302
    page = learner_client.get(reverse("ecommerce:cart")).content.decode()
    assert "An enrollment code is required" not in page
    assert f'Code <span class="code">{code.discount_code}</span> is applied.' in page
    assert CHECKOUT_BUTTON.decode() in page


def test_priced_b2b_cart_shows_list_price_code_and_total(learner_client):
    _contract, (product,) = h.b2b_product(max_learners=2, enrollment_fixed_price=Decimal("250"))
    product.price = Decimal("400.00")  # the catalog price; the contract's code fixes it at 250
    product.save()
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    learner_client.post(
        reverse("ecommerce:cart-apply-code"), {"code": h.code_for(product).discount_code}
    )
    page = learner_client.get(reverse("ecommerce:cart")).content.decode()
    assert "$400.00" in page
    assert "\N{MINUS SIGN}$150.00" in page
    assert 'data-testid="cart-total">$250.00<' in page
    assert CHECKOUT_BUTTON.decode() in page


def test_non_b2b_cart_checks_out_without_a_code(learner_client):
    product = h.plain_product("50.00")
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    page = learner_client.get(reverse("ecommerce:cart")).content.decode()
    assert "An enrollment code is required" not in page
    assert CHECKOUT_BUTTON.decode() in page


def test_refused_code_is_shown_on_the_field(learner_client):
    _contract, (product,) = h.b2b_product(max_learners=2)
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    response = learner_client.post(reverse("ecommerce:cart-apply-code"), {"code": "nope"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'aria-invalid="true"' in page
    assert "This code does not exist. Check it and try again." in page
    assert CHECKOUT_BUTTON.decode() not in page


def test_applied_code_that_became_unusable_hides_the_button(learner_client, learner):
    _contract, (product,) = h.b2b_product(max_learners=2)
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    code = h.code_for(product)
    learner_client.post(reverse("ecommerce:cart-apply-code"), {"code": code.discount_code})
    code.is_active = False
    code.save()
    page = learner_client.get(reverse("ecommerce:cart")).content.decode()
    assert "cannot be used: This code has been deactivated." in page
    assert CHECKOUT_BUTTON.decode() not in page

    learner_client.post(reverse("ecommerce:cart-remove-code"))
    assert not BasketDiscount.objects.filter(basket__user=learner).exists()


def test_cart_of_another_learner_is_never_shown(client, learner):
    other = h.learner("grace@example.com")
    product = h.plain_product()
    f.BasketItemFactory(basket=f.BasketFactory(user=learner), product=product)
    client.force_login(other)
    page = client.get(reverse("ecommerce:cart")).content.decode()
    assert "Your cart is empty." in page
    assert product.description not in page
