"""A contract's cap changed while invitations are open, or after some were revoked.

An open invitation holds a seat and its code: a cap that would leave an open invitation without
its seat is refused (saying how many seats are held and what to do), and a cap that fits keeps
every open invitation's code usable. A revoked invitation's code stays withdrawn whatever the cap
does later: raising a cap never brings it back."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from b2b.enums import InvitationState
from b2b.exceptions import InvalidContractTerms
from b2b.models import ContractMembership
from b2b.services.contracts.terms import ContractChange, modify_contract
from b2b.services.health.report import health_report
from b2b.services.invitations.invite import invite
from b2b.services.invitations.lifecycle import revoke
from b2b.services.memberships import admission_refusal
from ecommerce.models import Discount
from tests.b2b.helpers import (
    change,
    contract_with_codes,
    field_errors,
    publish_in_wagtail,
    reconcile,
)
from tests.support import factories as f

pytestmark = pytest.mark.django_db

EMAILS = ("ada@example.com", "bob@example.com", "cy@example.com")


def _invite_all(contract, emails=EMAILS):
    return [invite(contract=contract, email=email, by=None) for email in emails]


def _code_active(invitation) -> bool:
    return Discount.objects.get(pk=invitation.code_id).is_active


def _can_join(contract, invitation) -> bool:
    """Whether the invitee, bringing the invitation's code, would be let in now."""
    contract.refresh_from_db()
    invitee = f.UserFactory(email=invitation.email)
    return (
        _code_active(invitation)
        and admission_refusal(contract=contract, user=invitee, code_id=invitation.code_id) is None
    )


@pytest.mark.parametrize("cap_before", [None, 10], ids=["uncapped", "capped"])
def test_a_cap_below_the_seats_open_invitations_hold_is_refused(site_tree, no_openedx, cap_before):
    contract, _ = contract_with_codes(max_learners=cap_before)
    f.ContractMembershipFactory(contract=contract)
    invitations = _invite_all(contract)
    codes_before = sorted(Discount.objects.values_list("pk", "is_active"))
    with pytest.raises(InvalidContractTerms) as refused:
        modify_contract(contract_id=contract.pk, change=ContractChange(max_learners=3))
    assert str(refused.value) == (
        f"Contract {contract.title!r} has 1 member and 3 open invitations, which hold 4 seats: "
        "a cap of 3 would leave invitees without theirs. Revoke invitations first, or set a "
        "cap of at least 4."
    )
    contract.refresh_from_db()
    assert contract.max_learners == cap_before
    assert sorted(Discount.objects.values_list("pk", "is_active")) == codes_before
    assert all(_can_join(contract, invitation) for invitation in invitations)


def test_the_command_says_so_in_one_line_and_changes_nothing(site_tree, no_openedx):
    contract, _ = contract_with_codes(max_learners=None)
    _invite_all(contract)
    with pytest.raises(CommandError, match=r"^Contract .* hold 3 seats: a cap of 2 would"):
        call_command("b2b_contract", "modify", str(contract.pk), "--max-learners", "2")
    contract.refresh_from_db()
    assert contract.max_learners is None


@pytest.mark.parametrize("cap_before", [None, 10], ids=["uncapped", "capped"])
def test_a_cap_that_fits_keeps_every_open_invitation_usable(site_tree, no_openedx, cap_before):
    contract, _ = contract_with_codes(max_learners=cap_before)
    invitations = _invite_all(contract)
    change(contract, max_learners=3)
    assert all(_code_active(invitation) for invitation in invitations)
    assert all(_can_join(contract, invitation) for invitation in invitations)
    assert Discount.objects.filter(b2b_contract=contract, is_active=True).count() == 3
    assert [x.code for x in health_report().findings] == []


def test_a_revoked_invitations_code_stays_withdrawn_when_the_cap_is_raised(site_tree, no_openedx):
    contract, _ = contract_with_codes(max_learners=2)
    ada = invite(contract=contract, email="ada@example.com", by=None)
    revoke(invitation=ada, by=None)
    ada.refresh_from_db()
    assert ada.state == InvitationState.REVOKED and not _code_active(ada)
    change(contract, max_learners=5)
    assert not _code_active(ada)
    usable = Discount.objects.filter(b2b_contract=contract, is_active=True)
    assert usable.count() == 5
    assert ada.code_id not in set(usable.values_list("pk", flat=True))
    # Down and up again: still withdrawn.
    change(contract, max_learners=1)
    change(contract, max_learners=4)
    assert not _code_active(ada)
    assert not ContractMembership.objects.exists()


def test_an_uncapped_contracts_revoked_personal_code_stays_withdrawn(site_tree, no_openedx):
    contract, _ = contract_with_codes(max_learners=None)
    ada = invite(contract=contract, email="ada@example.com", by=None)
    revoke(invitation=ada, by=None)
    change(contract, max_learners=4)
    reconcile(contract)
    assert not _code_active(ada)
    assert Discount.objects.filter(b2b_contract=contract, is_active=True).count() == 4


def test_wagtail_refuses_the_cap_on_its_field(client, site_tree, no_openedx):
    contract, _ = contract_with_codes(max_learners=10)
    _invite_all(contract)
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    response = publish_in_wagtail(client, contract, max_learners="2")
    assert response.status_code == 200
    assert field_errors(response) == [
        f"Contract {contract.title!r} has 0 members and 3 open invitations, which hold 3 seats: "
        "a cap of 2 would leave invitees without theirs. Revoke invitations first, or set a cap "
        "of at least 3."
    ]
    contract.refresh_from_db()
    assert contract.max_learners == 10
    assert publish_in_wagtail(client, contract, max_learners="3").status_code == 302


def test_the_api_answers_400_with_the_reason(site_tree, no_openedx):
    from rest_framework.test import APIClient

    contract, _ = contract_with_codes(max_learners=10)
    _invite_all(contract)
    api = APIClient()
    api.force_authenticate(f.UserFactory(is_staff=True))
    url = f"/api/v1/b2b/contracts/{contract.pk}/"
    response = api.patch(url, {"max_learners": 1}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["message"].endswith("or set a cap of at least 3.")
    contract.refresh_from_db()
    assert contract.max_learners == 10
    dry = api.patch(f"{url}?dry_run=true", {"max_learners": 1}, format="json")
    assert dry.status_code == 400
