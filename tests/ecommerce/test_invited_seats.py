"""Open invitations hold their seats: a capped contract never has more members plus open
invitations than its cap, whichever code a newcomer brings; the invitee still gets in."""

import pytest
from django.urls import reverse

from b2b.models import ContractMembership
from b2b.services.invitations.invite import invite
from b2b.services.invitations.lifecycle import revoke
from ecommerce.constants import CART_ADD_PATH
from ecommerce.exceptions import ContractFull
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _apply(client, product, code):
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    return client.post(
        reverse("ecommerce:cart-apply-code"), {"code": code.discount_code}, follow=True
    )


def _checkout(client):
    return client.post(reverse("ecommerce:checkout"))


def _signed_in(client):
    user = f.UserFactory()
    client.force_login(user)
    return user


def test_a_newcomer_cannot_take_a_seat_an_open_invitation_holds(client, site_tree):
    # Two courses, two seats: the invitations hold the first course's codes and every seat;
    # the second course's codes are unused, but using one would pass the cap.
    contract, (first, second) = h.b2b_product(products=2, max_learners=2)
    ann = invite(contract=contract, email="ann@example.com", by=None)
    invite(contract=contract, email="bob@example.com", by=None)
    outsider_code = h.code_for(second)
    assert not outsider_code.invitations.exists()

    _signed_in(client)
    response = _apply(client, second, outsider_code)
    assert ContractFull.default_message in response.content.decode()
    assert ContractMembership.objects.filter(contract=contract).count() == 0

    client.logout()
    invitee = _signed_in(client)  # signs up with another address than the invited one
    response = _apply(client, first, ann.code)
    assert ContractFull.default_message not in response.content.decode()
    _checkout(client)
    assert list(
        ContractMembership.objects.filter(contract=contract).values_list("user", flat=True)
    ) == [invitee.pk]


def test_a_seat_is_free_again_once_its_invitation_is_revoked(client, site_tree):
    contract, (_first, second) = h.b2b_product(products=2, max_learners=1)
    held = invite(contract=contract, email="ann@example.com", by=None)
    _signed_in(client)
    refused = _apply(client, second, h.code_for(second))
    assert ContractFull.default_message in refused.content.decode()
    revoke(invitation=held, by=None)
    response = _apply(client, second, h.code_for(second))
    assert ContractFull.default_message not in response.content.decode()
    _checkout(client)
    assert ContractMembership.objects.filter(contract=contract).count() == 1
