"""The manager API under real parallel connections (PostgreSQL): two managers inviting the last
seat at once, and the same revocation sent twice at once."""

import threading

import pytest
from rest_framework.test import APIClient

from b2b.enums import InvitationEmailKind
from b2b.models import Invitation, InvitationEmail
from b2b.selectors.invitations import open_invitations
from b2b.services.invitations.invite import invite
from b2b.services.invitations.managers import grant_manager
from tests.b2b.helpers import capped_contract
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.races import InThread

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

API = "/api/v1/manager"


def _managers(org, n: int) -> list[APIClient]:
    clients = []
    for i in range(n):
        user = h.learner(f"lead{i}@acme.example")
        grant_manager(user=user, organization=org)
        client = APIClient()
        client.force_authenticate(user)
        clients.append(client)
    return clients


def _at_once(calls) -> list:
    barrier = threading.Barrier(len(calls))

    def run(call):
        def go():
            barrier.wait(timeout=20)
            return call()

        return go

    threads = [InThread(run(call)) for call in calls]
    return [thread.result() for thread in threads]


def test_two_managers_inviting_the_last_seat_at_once(site_tree):
    org = f.OrganizationPageFactory(title="Acme University")
    contract = capped_contract(org, cap=3, title="Acme Leadership")
    first, second = _managers(org, 2)
    for i in range(2):
        invite(contract=contract, email=f"early{i}@acme.example", by=None)
    url = f"{API}/contracts/{contract.pk}/invitations/"
    responses = _at_once(
        [
            lambda: first.post(url, {"email": "ann@acme.example"}, format="json"),
            lambda: second.post(url, {"email": "bob@acme.example"}, format="json"),
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409]
    refused = next(r for r in responses if r.status_code == 409).json()["error"]
    assert refused["outcome"] == "no-seats"
    assert open_invitations(contract.pk).count() == 3


def test_the_same_revocation_twice_at_once(site_tree):
    org = f.OrganizationPageFactory(title="Acme University")
    contract = capped_contract(org, cap=3, title="Acme Leadership")
    first, second = _managers(org, 2)
    invitation = invite(contract=contract, email="ann@acme.example", by=None)
    url = f"{API}/contracts/{contract.pk}/invitations/{invitation.pk}/revoke/"
    responses = _at_once([lambda: first.post(url), lambda: second.post(url)])
    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409).json()["error"]
    assert loser["code"] == "invitation_not_open"
    assert Invitation.objects.get().state == "revoked"
    kinds = list(InvitationEmail.objects.values_list("kind", flat=True).order_by("pk"))
    assert kinds == [InvitationEmailKind.INVITATION, InvitationEmailKind.REVOKE]
