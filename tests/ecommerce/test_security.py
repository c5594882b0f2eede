"""A learner sees only their own orders; prices come from the server; every POST needs CSRF;
B2B runs cannot be entered by any other path."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from courses.models import CourseRunEnrollment
from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import OrderState
from ecommerce.models import Order
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def test_another_learners_order_is_404(learner_client, learner):
    mine = f.LineFactory(order=f.OrderFactory(purchaser=learner)).order
    theirs = f.LineFactory(order=f.OrderFactory(purchaser=h.learner("eve@example.com"))).order
    assert learner_client.get(reverse("ecommerce:order-detail", args=[mine.pk])).status_code == 200
    assert (
        learner_client.get(reverse("ecommerce:order-detail", args=[theirs.pk])).status_code == 404
    )
    listing = learner_client.get(reverse("ecommerce:order-list")).content.decode()
    assert mine.reference_number in listing or f"/orders/{mine.pk}/" in listing
    assert f"/orders/{theirs.pk}/" not in listing


def test_order_pages_need_sign_in(client, site_tree):
    order = f.OrderFactory()
    for url in (
        reverse("ecommerce:order-list"),
        reverse("ecommerce:order-detail", args=[order.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_tampered_price_is_ignored(learner_client, learner, cybersource):
    product = h.plain_product("75.00")
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    response = learner_client.post(
        reverse("ecommerce:checkout"),
        {"price": "0.00", "total": "0.00", "amount": "0.01", "total_price_paid": "0"},
    )
    order = Order.objects.get()
    assert (order.state, order.total_price_paid) == (OrderState.PENDING, Decimal("75.00"))
    assert response.context["payment"].fields["amount"] == "75.00"
    assert list(order.lines.values_list("list_price", "total_price")) == [
        (Decimal("75.00"), Decimal("75.00"))
    ]
    assert not CourseRunEnrollment.objects.exists()


def test_tampered_amount_in_the_code_form_is_ignored(learner_client, learner):
    _contract, (product,) = h.b2b_product(max_learners=2, enrollment_fixed_price=Decimal("90"))
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    learner_client.post(
        reverse("ecommerce:cart-apply-code"),
        {"code": h.code_for(product).discount_code, "amount": "0", "discount_type": "percent-off"},
    )
    page = learner_client.get(reverse("ecommerce:cart")).content.decode()
    assert 'data-testid="cart-total">$90.00<' in page


def test_code_of_another_contracts_product_is_refused(learner_client):
    _mine, (product,) = h.b2b_product(max_learners=2)
    _theirs, (their_product,) = h.b2b_product(max_learners=2)
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    response = learner_client.post(
        reverse("ecommerce:cart-apply-code"), {"code": h.code_for(their_product).discount_code}
    )
    assert "This code is not valid for the course in your cart." in response.content.decode()
    assert learner_client.post(reverse("ecommerce:checkout")).status_code == 302
    assert not Order.objects.exists()


def _csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/cart/code/",
        "/cart/code/remove/",
        "/cart/checkout/",
        "/dashboard/runs/1/enroll/",
        "/logout/",
    ],
)
def test_every_learner_post_needs_csrf(learner, url):
    assert _csrf_client(learner).post(url, {"code": "x"}).status_code == 403


def test_checkout_with_the_csrf_token_works(learner):
    client = _csrf_client(learner)
    product = h.plain_product("0.00")
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    page = client.get(reverse("ecommerce:cart")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(reverse("ecommerce:checkout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Order.objects.get().state == OrderState.FULFILLED


def test_b2b_run_cannot_be_entered_by_guessing_ids(learner_client, learner):
    """Not a member: no dashboard enrollment; no checkout without the code; no other path."""
    contract, (product,) = h.b2b_product(max_learners=5)
    run = product.purchasable_object
    response = learner_client.post(reverse("ecommerce:dashboard-enroll", args=[run.pk]))
    assert response.status_code == 302
    learner_client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    learner_client.post(reverse("ecommerce:checkout"))
    for guess in range(max(1, run.pk - 3), run.pk + 4):
        learner_client.post(reverse("ecommerce:dashboard-enroll", args=[guess]))
    # GET on the enroll address does nothing either.
    assert (
        learner_client.get(reverse("ecommerce:dashboard-enroll", args=[run.pk])).status_code == 405
    )
    assert not CourseRunEnrollment.objects.exists()
    assert not contract.memberships.exists()
