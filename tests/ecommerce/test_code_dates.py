"""A contract's codes carry its dates: the cart, checkout and the API's attach refuse a code
before its contract starts (saying when it starts) and after it ended (saying when it ended)."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from rest_framework.test import APIClient

from b2b.models import ContractMembership
from ecommerce.constants import CART_ADD_PATH
from ecommerce.models import Order
from tests.b2b.helpers import change
from tests.ecommerce import helpers as h

pytestmark = pytest.mark.django_db


def _moment(day, at) -> str:
    return date_format(
        datetime.combine(day, at, tzinfo=timezone.get_current_timezone()), "DATETIME_FORMAT"
    ).rstrip(".")


def _apply(client, product, code):
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    return client.post(reverse("ecommerce:cart-apply-code"), {"code": code.discount_code})


def test_the_cart_refuses_a_code_before_its_contract_starts(learner_client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    start = timezone.localdate() + timedelta(days=5)
    _contract, (product,) = h.b2b_product(max_learners=2, contract_start=start)
    response = _apply(learner_client, product, h.code_for(product))
    assert response.status_code == 200  # the cart again, with the refusal
    page = response.content.decode()
    expected = f"This code is not valid until {_moment(start, time.min)}."
    assert expected.endswith(", midnight.")
    assert expected in page


def test_checkout_refuses_a_code_whose_contract_ended_since_it_was_applied(learner_client):
    today = timezone.localdate()
    contract, (product,) = h.b2b_product(max_learners=2, contract_start=today - timedelta(days=9))
    code = h.code_for(product)
    assert _apply(learner_client, product, code).status_code == 302  # applied
    ended = today - timedelta(days=1)
    change(contract, contract_end=ended)
    response = learner_client.post(reverse("ecommerce:checkout"))
    page = learner_client.get(response["Location"]).content.decode()
    assert f"This code expired on {_moment(ended, time.max)}." in page
    assert _moment(ended, time.max).endswith(", 11:59 p.m")
    assert not Order.objects.exists()
    assert not ContractMembership.objects.exists()


def _attach(user, code):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(f"/api/v1/b2b/attach/{code.discount_code}/")


def test_the_api_attach_refuses_a_code_outside_its_dates(learner):
    today = timezone.localdate()
    start = today + timedelta(days=3)
    _soon, (later,) = h.b2b_product(max_learners=2, contract_start=start)
    refused = _attach(learner, h.code_for(later))
    assert refused.status_code == 409
    assert refused.json()["error"] == {
        "code": "code_not_yet_valid",
        "message": f"This code is not valid until {_moment(start, time.min)}.",
        "fields": {},
    }
    ended = today - timedelta(days=2)
    _past, (gone,) = h.b2b_product(
        max_learners=2, contract_start=today - timedelta(days=30), contract_end=ended
    )
    refused = _attach(learner, h.code_for(gone))
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == (
        f"This code expired on {_moment(ended, time.max)}."
    )
    assert not ContractMembership.objects.exists()
