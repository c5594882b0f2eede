"""The learner's listings run a fixed number of queries, whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _add_dashboard_rows(learner):
    contract, products = h.b2b_product(products=2, integration_type="sso")
    f.ContractMembershipFactory(user=learner, contract=contract, source="sso")
    f.CourseRunEnrollmentFactory(user=learner, run=products[0].purchasable_object)
    f.CourseRunEnrollmentFactory(user=learner)


def _add_orders(learner):
    for _ in range(2):
        order = f.OrderFactory(purchaser=learner, discount=f.DiscountFactory())
        f.LineFactory(order=order)


@pytest.mark.parametrize(
    ("url", "add_rows"),
    [
        (reverse("ecommerce:dashboard"), _add_dashboard_rows),
        (reverse("ecommerce:order-list"), _add_orders),
    ],
)
def test_listing_queries_do_not_grow(learner_client, learner, url, add_rows):
    add_rows(learner)
    few = _queries(learner_client, url)
    for _ in range(3):
        add_rows(learner)
    assert _queries(learner_client, url) == few


def test_order_receipt_queries_do_not_grow_with_lines(learner_client, learner):
    order = f.OrderFactory(purchaser=learner)
    f.LineFactory(order=order)
    url = reverse("ecommerce:order-detail", args=[order.pk])
    one = _queries(learner_client, url)
    for _ in range(3):
        f.LineFactory(order=order)
    assert _queries(learner_client, url) == one
