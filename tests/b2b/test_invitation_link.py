"""The invitation's link: to the cart with the code ready to apply, or why it no longer works."""

import pytest

from b2b.services.invitations import invite, revoke
from tests import factories as f
from tests.b2b.codes_helpers import redeem
from tests.b2b.invitation_helpers import contract_with_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(site_tree):
    contract, _ = contract_with_codes(max_learners=3)
    return invite(contract=contract, email="ann@example.com", by=None)


def test_an_open_invitation_leads_to_the_cart_with_its_code(client, invitation, settings):
    product = invitation.code.products.get()
    response = client.get(f"/invitations/{invitation.token}/")
    assert response.status_code == 302
    code = invitation.code.discount_code
    assert response["Location"] == (
        f"{settings.SITE_BASE_URL}/cart/add/?product_id={product.pk}&code={code}"
    )
    learner = f.UserFactory()
    client.force_login(learner)
    added = client.get(f"/cart/add/?product_id={product.pk}&code={code}")
    assert added.status_code == 302
    assert added["Location"] == f"/cart/?code={code}"
    cart = client.get(added["Location"])
    assert cart.status_code == 200
    field = cart.context["code_form"]["code"]
    assert field.value() == code
    assert f'value="{code}"' in cart.content.decode()


def test_a_revoked_invitation_says_it_was_withdrawn(client, invitation):
    revoke(invitation=invitation, by=None)
    response = client.get(f"/invitations/{invitation.token}/")
    assert response.status_code == 410
    assert "Invitation withdrawn" in response.content.decode()
    assert invitation.code.discount_code not in response.content.decode()


def test_a_redeemed_invitation_says_it_was_used(client, invitation):
    redeem(invitation.code, f.UserFactory())
    response = client.get(f"/invitations/{invitation.token}/")
    assert response.status_code == 200
    assert "Invitation already used" in response.content.decode()


def test_an_unknown_token_is_not_found(client, site_tree):
    response = client.get("/invitations/not-a-token/")
    assert response.status_code == 404
    assert "Invitation not found" in response.content.decode()
