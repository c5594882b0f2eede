"""Single sign-on through a real local OpenID Connect provider."""

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from b2b.models import ContractMembership, MembershipRefusal
from tests.support import factories as f
from tests.users.helpers import set_identity, sign_in
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(site_tree):
    return f.OrganizationPageFactory(
        title="UniversityX", org_key="UNIX", sso_organization_id="6f1c-kc-unix"
    )


def _sub():
    return f"user-{uuid.uuid4().hex[:12]}"


def _sso(client, provider, claim, **extra):
    sub = _sub()
    email = f"{sub}@example.edu"
    claims = {"email": email, "name": "Ada Lovelace", **extra}
    if claim is not None:
        claims["organization"] = claim
    set_identity(provider, sub, **claims)
    response = sign_in(client, provider, sub)
    assert response.status_code == 302, response.content[:500]
    return User.objects.get(email=email), response


@pytest.mark.parametrize(
    "claim",
    [["unix"], {"unix": {"id": "6f1c-kc-unix"}}, {"other-alias": {"id": "6f1c-kc-unix"}}],
    ids=["alias-list", "alias-map", "id-only"],
)
def test_both_claim_forms_attach_to_free_sso_contracts(client, oidc_settings, org, claim):
    contract = f.ContractPageFactory(parent=org, integration_type="sso")
    user, response = _sso(client, oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT, claim)
    assert response["Location"] == "/dashboard/"
    assert user.global_id and user.global_id.startswith("user-")
    assert user.name == "Ada Lovelace"
    membership = ContractMembership.objects.get(user=user)
    assert (membership.contract_id, membership.source) == (contract.pk, "sso")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_no_organization_and_unknown_organization(client, oidc_settings, org):
    f.ContractPageFactory(parent=org, integration_type="sso")
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    nobody, _ = _sso(client, provider, None)
    stranger, _ = _sso(Client(), provider, ["some-other-university"])
    assert not ContractMembership.objects.filter(user__in=[nobody, stranger]).exists()


@pytest.mark.parametrize(
    "terms",
    [
        {"active": False},
        {"contract_start": timezone.localdate() + timedelta(days=3)},
        {"contract_end": timezone.localdate() - timedelta(days=1)},
        {"enrollment_fixed_price": Decimal("50.00")},
        {"integration_type": "non-sso"},
    ],
    ids=["inactive", "not-started", "ended", "priced", "non-sso"],
)
def test_contracts_that_are_not_joined_at_sign_in(client, oidc_settings, org, terms):
    f.ContractPageFactory(parent=org, **{"integration_type": "sso", **terms})
    user, _ = _sso(client, oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT, ["unix"])
    assert not ContractMembership.objects.filter(user=user).exists()
    assert not MembershipRefusal.objects.exists()


def test_full_contract_refuses_and_staff_can_see_it(client, oidc_settings, org):
    contract = f.ContractPageFactory(parent=org, integration_type="sso", max_learners=1)
    f.ContractMembershipFactory(contract=contract)
    user, response = _sso(client, oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT, ["unix"])
    assert response["Location"] == "/dashboard/"  # the sign-in itself succeeds
    assert not ContractMembership.objects.filter(user=user).exists()
    refusal = MembershipRefusal.objects.get(user=user)
    assert refusal.contract == contract
    assert "is full" in refusal.reason


def test_existing_account_is_linked_and_memberships_are_kept(client, oidc_settings, org):
    contract = f.ContractPageFactory(parent=org, integration_type="sso")
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    existing = f.UserFactory(email="grace@example.edu")
    set_identity(
        provider,
        "grace-sub",
        email="grace@example.edu",
        email_verified=True,
        name="Grace",
        organization=["unix"],
    )
    sign_in(client, provider, "grace-sub")
    existing.refresh_from_db()
    assert existing.global_id == "grace-sub"
    assert ContractMembership.objects.filter(user=existing, contract=contract).exists()

    # The claim no longer lists the organization: the membership stays (staff remove it).
    set_identity(
        provider, "grace-sub", email="grace@example.edu", email_verified=True, name="Grace"
    )
    sign_in(Client(), provider, "grace-sub")
    assert ContractMembership.objects.filter(user=existing, contract=contract).exists()
    assert User.objects.filter(email__iexact="grace@example.edu").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sign_ins_never_exceed_the_cap(oidc_settings, org):
    cap, learners = 4, 12
    contract = f.ContractPageFactory(parent=org, integration_type="sso", max_learners=cap)
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    subs = [_sub() for _ in range(learners)]
    for sub in subs:
        set_identity(provider, sub, email=f"{sub}@example.edu", organization=["unix"])
    barrier = threading.Barrier(learners)
    errors = []

    def run(sub):
        try:
            barrier.wait(timeout=20)
            sign_in(Client(), provider, sub)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(sub,)) for sub in subs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert ContractMembership.objects.filter(contract=contract).count() == cap
    assert MembershipRefusal.objects.filter(contract=contract).count() == learners - cap


@pytest.mark.parametrize(
    ("claims", "what"),
    [
        ({"email": "ada\x00@example.edu"}, "e-mail address"),
        ({"name": "Ada\x00 Lovelace"}, "name"),
    ],
    ids=["email", "name"],
)
def test_a_claim_with_a_nul_character_is_refused_with_a_reason(
    client, oidc_settings, org, claims, what
):
    """PostgreSQL cannot store a NUL: the sign-in is refused with a page saying which claim,
    and no account is made (instead of a database error)."""
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    sub = _sub()
    set_identity(provider, sub, **{"email": f"{sub}@example.edu", "name": "Ada", **claims})
    response = sign_in(client, provider, sub)
    assert response.status_code == 403, response.content[:300]
    assert (
        f"Your organization&#x27;s sign-in service sent a {what} with a NUL character"
    ) in response.content.decode()
    assert not User.objects.filter(global_id=sub).exists()
    assert "_auth_user_id" not in client.session


def test_an_organization_claim_with_a_nul_character_matches_nothing(client, oidc_settings, org):
    f.ContractPageFactory(parent=org, integration_type="sso")
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    user, response = _sso(client, provider, ["un\x00ix", {"x": 1}, "unix"])
    assert response["Location"] == "/dashboard/"
    assert ContractMembership.objects.filter(user=user).count() == 1
    user2, _ = _sso(Client(), provider, {"un\x00ix": {"id": "6f1c\x00"}})
    assert not ContractMembership.objects.filter(user=user2).exists()
