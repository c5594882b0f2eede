"""Revoking an invitation while its invitee is paying (the December trial, 1.1), and the seats of
learners at the payment page.

A capped, priced contract with one invitation; the invitee follows the link, applies the code and
goes to CyberSource, so a pending order holds the code. The manager's revoke (page or API) is
refused while that payment is under way: no "withdrawn" e-mail, no fresh code. The accepted
receipt then makes the invitee a member, and a second buyer for the last seat never reaches the
payment page. Every step goes through the pages a browser sees (forms read from the HTML) and
CyberSource's signed receipt.
"""

from decimal import Decimal

import pytest
from django.db.models import Exists, OuterRef, Q
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from b2b.enums import InvitationEmailKind, InvitationState
from b2b.models import ContractMembership, Invitation, InvitationEmail
from b2b.services.invitations.invite import invite
from b2b.services.invitations.managers import grant_manager
from b2b.services.memberships import attach_learner
from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import OrderState
from ecommerce.exceptions import ContractFull
from ecommerce.models import BasketDiscount, Discount, DiscountRedemption, Order
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.cybersource_server import processor_response
from tests.support.forms import BrowserForm
from users.services.api_tokens import create_api_token

pytestmark = pytest.mark.django_db

PRICE = Decimal("120.00")
RECEIPT = "/checkout/receipt/"


@pytest.fixture
def world(site_tree, cybersource):
    org = f.OrganizationPageFactory(title="Acme University")
    contract, (product,) = h.b2b_product(
        parent=org, max_learners=2, enrollment_fixed_price=PRICE, title="Acme Leadership"
    )
    manager = h.learner("lead@acme.example", name="Lea Lead")
    grant_manager(user=manager, organization=org)
    invitation = invite(contract=contract, email="ann@example.com", by=manager)
    return contract, product, manager, invitation


def _signed_in(email: str) -> Client:
    client = Client()
    client.force_login(h.learner(email))
    return client


def _apply_and_check_out(client: Client, cart_page) -> dict | None:
    """Apply the code the cart page shows filled in, then check out; the payment form's fields
    when the learner reached the payment page, else None."""
    html = cart_page.content.decode()
    form = BrowserForm(html, action=reverse("ecommerce:cart-apply-code"))
    applied = client.post(reverse("ecommerce:cart-apply-code"), form.data(), follow=True)
    page = applied.content.decode()
    if 'action="' + reverse("ecommerce:checkout") + '"' not in page:
        return None
    checkout = BrowserForm(page, action=reverse("ecommerce:checkout"))
    response = client.post(reverse("ecommerce:checkout"), checkout.data())
    payment = response.context.get("payment") if response.context else None
    return payment.fields if payment else None


def _accept_invitation(client: Client, invitation):
    """Open the invitation's page and press its accept button: the cart page it leads to,
    with the invitation's code filled in."""
    landing = client.get(f"/invitations/{invitation.token}/").content.decode()
    accept = BrowserForm(landing, form_id="accept-invitation")
    return client.get(accept.action, accept.data(), follow=True)


def _follow_invitation(client: Client, invitation) -> dict | None:
    """Accept the invitation, then apply its code and check out."""
    return _apply_and_check_out(client, _accept_invitation(client, invitation))


def _with_code(client: Client, product, code: str) -> dict | None:
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    return _apply_and_check_out(client, client.get(f"{reverse('ecommerce:cart')}?code={code}"))


def _usable_codes(contract) -> list[str]:
    """Codes of the contract a newcomer could still take: active, unredeemed, not set aside for
    an open invitation, not in a pending order or a cart (read from the tables)."""
    open_codes = Invitation.objects.filter(
        contract=contract, state=InvitationState.OPEN, code__isnull=False
    ).filter(~Exists(DiscountRedemption.objects.filter(discount_id=OuterRef("code_id"))))
    held = Q(Exists(Order.objects.filter(discount_id=OuterRef("pk"), state=OrderState.PENDING)))
    held |= Q(Exists(BasketDiscount.objects.filter(discount_id=OuterRef("pk"))))
    return list(
        Discount.objects.filter(b2b_contract=contract, is_active=True)
        .filter(~Exists(DiscountRedemption.objects.filter(discount_id=OuterRef("pk"))))
        .exclude(pk__in=open_codes.values("code_id"))
        .exclude(held)
        .values_list("discount_code", flat=True)
    )


def _members(contract) -> int:
    return ContractMembership.objects.filter(contract=contract).count()


def _revoke_button(manager_client: Client, contract, invitation) -> tuple[str, dict]:
    page = manager_client.get(f"/manage/contracts/{contract.pk}/").content.decode()
    action = f"/manage/contracts/{contract.pk}/invitations/{invitation.pk}/revoke/"
    return action, BrowserForm(page, action=action).data()


def test_revoke_is_refused_while_the_invitee_pays_and_the_payment_makes_her_a_member(world):
    contract, product, manager, invitation = world
    ann = _signed_in("ann@example.com")
    fields = _follow_invitation(ann, invitation)
    assert fields is not None and fields["amount"] == "120.00"
    order = Order.objects.get(purchaser__email="ann@example.com")
    assert (order.state, order.discount_id) == (OrderState.PENDING, invitation.code_id)
    codes_before = sorted(
        Discount.objects.filter(b2b_contract=contract).values_list("pk", "is_active")
    )

    # The manager's page: the revoke button answers with a message, and nothing changes.
    pages = Client()
    pages.force_login(manager)
    action, data = _revoke_button(pages, contract, invitation)
    answer = pages.post(action, data, follow=True).content.decode()
    assert (
        "ann@example.com is paying with this invitation right now; try again once the payment "
        "is settled (in 120 minutes at most)"
    ) in answer
    assert "is withdrawn" not in answer

    # The API: 409 in the error shape, with Retry-After.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_api_token(email=manager.email).token}")
    response = api.post(
        f"/api/v1/manager/contracts/{contract.pk}/invitations/{invitation.pk}/revoke/"
    )
    assert response.status_code == 409, response.content
    assert response.json() == {
        "error": {
            "code": "invitation_in_use",
            "message": "ann@example.com is paying with this invitation right now; try again "
            "once the payment is settled (in 120 minutes at most)",
            "fields": {},
        }
    }
    assert 7140 <= int(response["Retry-After"]) <= 7200

    invitation.refresh_from_db()
    assert invitation.state == InvitationState.OPEN
    assert not InvitationEmail.objects.filter(kind=InvitationEmailKind.REVOKE).exists()
    assert (
        sorted(Discount.objects.filter(b2b_contract=contract).values_list("pk", "is_active"))
        == codes_before
    )
    assert len(_usable_codes(contract)) <= contract.max_learners - _members(contract) - 1

    # CyberSource accepts the payment: Ann joins, her invitation reads "redeemed" by her.
    receipt = Client(enforce_csrf_checks=True).post(RECEIPT, processor_response(fields))
    assert receipt.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.FULFILLED and not order.refund_due
    assert list(
        ContractMembership.objects.filter(contract=contract).values_list("user__email", flat=True)
    ) == ["ann@example.com"]
    usable = _usable_codes(contract)
    assert len(usable) == 1 == contract.max_learners - _members(contract)

    # Two buyers for the last seat: the first reaches the payment page, the second never does,
    # whichever of the contract's codes they bring.
    bob = _signed_in("bob@example.com")
    assert _with_code(bob, product, usable[0]) is not None
    cara = _signed_in("cara@example.com")
    candidates = Discount.objects.filter(b2b_contract=contract, is_active=True)
    for code in candidates.values_list("discount_code", flat=True):
        assert _with_code(cara, product, code) is None
    assert not Order.objects.filter(purchaser__email="cara@example.com").exists()
    assert _members(contract) == 1


def test_revoke_is_refused_while_the_code_sits_in_the_invitees_cart(world):
    contract, _product, manager, invitation = world
    ann = _signed_in("ann@example.com")
    page = _accept_invitation(ann, invitation)
    form = BrowserForm(page.content.decode(), action=reverse("ecommerce:cart-apply-code"))
    ann.post(reverse("ecommerce:cart-apply-code"), form.data())
    assert BasketDiscount.objects.filter(discount_id=invitation.code_id).exists()

    pages = Client()
    pages.force_login(manager)
    action, data = _revoke_button(pages, contract, invitation)
    answer = pages.post(action, data, follow=True).content.decode()
    assert (
        "ann@example.com has this invitation&#x27;s code in a cart right now; try again in 120 "
        "minutes at most"
    ) in answer
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.OPEN
    assert not InvitationEmail.objects.filter(kind=InvitationEmailKind.REVOKE).exists()


def test_a_learner_at_the_payment_page_holds_the_last_seat(world):
    """A member who came in without a code (staff) leaves the pool with more codes than seats;
    the learner paying for the last seat holds it, so nobody else reaches payment for it."""
    contract, product, manager, invitation = world
    pages = Client()
    pages.force_login(manager)
    action, data = _revoke_button(pages, contract, invitation)
    pages.post(action, data)  # nobody is paying: the seat is given back
    assert Invitation.objects.get(pk=invitation.pk).state == InvitationState.REVOKED
    staff_added = h.learner("staff-added@example.com")
    attach_learner(user=staff_added, contract_id=contract.pk, source="staff")
    first, second = _usable_codes(contract)

    bob = _signed_in("bob@example.com")
    bob_pays = _with_code(bob, product, first)
    assert bob_pays is not None
    cara = _signed_in("cara@example.com")
    cara.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    refused = cara.post(reverse("ecommerce:cart-apply-code"), {"code": second}, follow=True)
    assert ContractFull.default_message in refused.content.decode()
    assert _with_code(cara, product, second) is None
    assert not Order.objects.filter(purchaser__email="cara@example.com").exists()

    # Bob's payment is accepted: he has his seat; the contract is full.
    Client(enforce_csrf_checks=True).post(RECEIPT, processor_response(bob_pays))
    bob_order = Order.objects.get(purchaser__email="bob@example.com")
    assert bob_order.state == OrderState.FULFILLED
    assert _members(contract) == contract.max_learners == 2
