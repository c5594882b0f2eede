"""Limits on what one manager, or anyone, can make the site send: the manager pages count
against the API's per-manager write limit (B2B_MANAGER_API_WRITES_PER_MINUTE, writes through both
count together), and the invitation and withdrawal e-mails one address receives are capped per
contract and per day, whichever manager and channel sends them. Pages are posted as a browser
would: only the fields they render (tests/support/forms.py)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from b2b.enums import InvitationEmailKind, InvitationState, InviteOutcome
from b2b.exceptions import InvitationRefused
from b2b.models import Invitation, InvitationEmail
from b2b.services.invitations.invite import invite
from b2b.services.invitations.lifecycle import revoke
from b2b.services.invitations.managers import grant_manager
from tests.b2b.helpers import capped_contract
from tests.ecommerce import helpers as h
from tests.support.forms import BrowserForm
from users.services.api_tokens import create_api_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.B2B_MANAGER_API_WRITES_PER_MINUTE = 1000
    settings.B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT = 4
    settings.B2B_INVITATION_EMAILS_PER_ADDRESS_PER_DAY = 6
    return settings


def _contract_page(client, contract) -> str:
    response = client.get(f"/manage/contracts/{contract.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _invite_on_the_page(client, contract, email):
    action = f"/manage/contracts/{contract.pk}/invite/"
    form = BrowserForm(_contract_page(client, contract), action=action)
    assert form.names() == {"csrfmiddlewaretoken", "email", "name"}
    form.fill("email", email)
    return client.post(action, form.data(), follow=True)


def _revoke_on_the_page(client, contract, email):
    invitation = Invitation.objects.get(contract=contract, email=email, state=InvitationState.OPEN)
    action = f"/manage/contracts/{contract.pk}/invitations/{invitation.pk}/revoke/"
    form = BrowserForm(_contract_page(client, contract), action=action)
    return client.post(action, form.data(), follow=True)


def _mails_to(address, *kinds):
    found = InvitationEmail.objects.filter(to=address)
    return found.filter(kind__in=kinds).count() if kinds else found.count()


def test_inviting_and_revoking_one_address_on_the_pages_stops_mailing_it(
    manager_client, orgs, limits
):
    contract = orgs.contract_a
    for _cycle in range(2):  # invitation, withdrawal, invitation, withdrawal: 4 e-mails
        assert _invite_on_the_page(manager_client, contract, "vic@example.com").status_code == 200
        assert _revoke_on_the_page(manager_client, contract, "vic@example.com").status_code == 200
    assert _mails_to("vic@example.com") == 4

    refused = _invite_on_the_page(manager_client, contract, "vic@example.com")
    assert refused.status_code == 400
    assert (
        "&#x27;vic@example.com&#x27; was not invited: e-mailed too often lately"
        in refused.content.decode()
    )
    assert _mails_to("vic@example.com") == 4
    assert not Invitation.objects.filter(
        email="vic@example.com", state=InvitationState.OPEN
    ).exists()
    for _ in range(5):  # however often it is tried
        _invite_on_the_page(manager_client, contract, "vic@example.com")
    assert _mails_to("vic@example.com") == 4
    assert _invite_on_the_page(manager_client, contract, "other@example.com").status_code == 200


def test_a_withdrawal_past_the_cap_withdraws_without_an_e_mail(orgs, limits):
    limits.B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT = 3
    contract = orgs.contract_a
    first = invite(contract=contract, email="vic@example.com", by=orgs.manager)
    revoke(invitation=first, by=orgs.manager)
    second = invite(contract=contract, email="vic@example.com", by=orgs.manager)
    revoke(invitation=second, by=orgs.manager)  # the 4th e-mail: not sent
    second.refresh_from_db()
    assert second.state == InvitationState.REVOKED
    assert _mails_to("vic@example.com", InvitationEmailKind.INVITATION) == 2
    assert _mails_to("vic@example.com", InvitationEmailKind.REVOKE) == 1


def test_the_day_cap_counts_every_contract_manager_and_channel(orgs, limits):
    limits.B2B_INVITATION_EMAILS_PER_ADDRESS_PER_DAY = 3
    other_contract = capped_contract(orgs.a, title="Acme Sales")
    first = invite(contract=orgs.contract_a, email="vic@example.com", by=orgs.manager)
    revoke(invitation=first, by=None)  # an operator, say
    invite(contract=other_contract, email="vic@example.com", by=None)
    with pytest.raises(InvitationRefused) as refused:
        invite(contract=orgs.contract_b, email="vic@example.com", by=None)
    assert refused.value.outcome == InviteOutcome.EMAIL_LIMIT
    assert _mails_to("vic@example.com") == 3


def test_page_writes_count_against_the_api_write_limit(manager_client, orgs, limits):
    limits.B2B_MANAGER_API_WRITES_PER_MINUTE = 3
    api = APIClient()
    token = create_api_token(email=orgs.manager.email).token
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    url = f"/api/v1/manager/contracts/{orgs.contract_a.pk}/invitations/"
    assert api.post(url, {"email": "a1@example.com"}, format="json").status_code == 201
    assert _invite_on_the_page(manager_client, orgs.contract_a, "p1@example.com").status_code == 200
    assert api.post(url, {"email": "a2@example.com"}, format="json").status_code == 201

    refused = _invite_on_the_page(manager_client, orgs.contract_a, "p2@example.com")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "You have made too many changes in the last minute" in page
    assert _revoke_on_the_page(manager_client, orgs.contract_a, "p1@example.com").status_code == 429
    response = api.post(url, {"email": "a3@example.com"}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "a1@example.com",
        "a2@example.com",
        "p1@example.com",
    ]
    assert _contract_page(manager_client, orgs.contract_a)  # reading is never limited


def test_the_limit_is_per_manager(manager_client, orgs, limits, client):
    limits.B2B_MANAGER_API_WRITES_PER_MINUTE = 1
    assert _invite_on_the_page(manager_client, orgs.contract_a, "p1@example.com").status_code == 200
    assert _invite_on_the_page(manager_client, orgs.contract_a, "p2@example.com").status_code == 429
    colleague = h.learner("co@acme.example")
    grant_manager(user=colleague, organization=orgs.a)
    second = Client()
    second.force_login(colleague)
    assert _invite_on_the_page(second, orgs.contract_a, "p2@example.com").status_code == 200
