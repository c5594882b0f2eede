"""Which local account a single sign-on identity may use, through the real OpenID provider.

An identity is linked to an existing account by e-mail only when the provider asserts the e-mail
is verified, and never to a staff or superuser account; a refusal is a page, not a sign-in.
"""

import pytest
from django.test import Client
from social_django.models import UserSocialAuth

from tests.support import factories as f
from tests.users.helpers import set_identity, sign_in
from users.models import User

pytestmark = pytest.mark.django_db

REFUSED_TITLE = "<title>Single sign-on refused · Learning</title>"


def _refused(response) -> str:
    assert response.status_code == 403, response.content[:300]
    page = response.content.decode()
    assert REFUSED_TITLE in page
    return page


def _signed_in_user_id(client):
    return client.session.get("_auth_user_id")


@pytest.mark.parametrize(
    "verified", [{"email_verified": False}, {}], ids=["unverified", "not-asserted"]
)
def test_unverified_email_never_links_an_existing_account(client, oidc_settings, verified):
    existing = f.UserFactory(email="grace@example.edu")
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    set_identity(provider, "mallory-sub", email="Grace@Example.EDU", name="Mallory", **verified)

    page = _refused(sign_in(client, provider, "mallory-sub"))

    assert "An account with the e-mail address Grace@Example.EDU already exists here" in page
    assert "has not confirmed that this address is yours" in page
    assert _signed_in_user_id(client) is None
    existing.refresh_from_db()
    assert (existing.global_id, existing.name, existing.email) == (
        None,
        existing.name,
        "grace@example.edu",
    )
    assert not UserSocialAuth.objects.exists()
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "role",
    [{"is_superuser": True, "is_staff": True}, {"is_staff": True}],
    ids=["superuser", "staff"],
)
def test_staff_accounts_are_never_linked_even_with_a_verified_email(client, oidc_settings, role):
    admin = f.UserFactory(email="admin@example.com", **role)
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    set_identity(provider, "attacker-sub", email="Admin@Example.com", email_verified=True)

    page = _refused(sign_in(client, provider, "attacker-sub"))

    assert "belongs to a staff account" in page
    assert "Sign in with your password instead" in page
    assert _signed_in_user_id(client) is None
    admin.refresh_from_db()
    assert admin.global_id is None
    assert not UserSocialAuth.objects.exists()


def test_verified_email_links_a_learner_account(client, oidc_settings):
    learner = f.UserFactory(email="ada@example.edu", name="Ada")
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    set_identity(provider, "ada-sub", email="ADA@example.edu", name="Ada L.", email_verified=True)

    response = sign_in(client, provider, "ada-sub")

    assert (response.status_code, response["Location"]) == (302, "/dashboard/")
    assert _signed_in_user_id(client) == str(learner.pk)
    learner.refresh_from_db()
    assert (learner.global_id, learner.name) == ("ada-sub", "Ada L.")
    assert UserSocialAuth.objects.get().user_id == learner.pk


def test_account_already_linked_to_another_identity_is_refused(client, oidc_settings):
    learner = f.UserFactory(email="ada@example.edu", global_id="ada-original-sub")
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    set_identity(provider, "ada-new-sub", email="ada@example.edu", email_verified=True)

    page = _refused(sign_in(client, provider, "ada-new-sub"))

    assert "already linked to another single sign-on identity" in page
    learner.refresh_from_db()
    assert learner.global_id == "ada-original-sub"
    assert not UserSocialAuth.objects.exists()


def test_a_new_identity_gets_a_new_account_whatever_the_verification(client, oidc_settings):
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    set_identity(provider, "new-sub", email="new@example.edu", email_verified=False)

    response = sign_in(client, provider, "new-sub")

    assert (response.status_code, response["Location"]) == (302, "/dashboard/")
    user = User.objects.get(email="new@example.edu")
    assert (user.global_id, user.is_staff, user.is_superuser) == ("new-sub", False, False)
    assert _signed_in_user_id(client) == str(user.pk)


def test_the_local_email_follows_only_a_verified_and_free_address(client, oidc_settings):
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    f.UserFactory(email="taken@example.edu")
    set_identity(provider, "eve-sub", email="eve@example.edu", email_verified=True)
    sign_in(client, provider, "eve-sub")
    eve = User.objects.get(global_id="eve-sub")

    # Unverified: the account keeps its address (password resets keep going to it).
    set_identity(provider, "eve-sub", email="eve@elsewhere.example", email_verified=False)
    response = sign_in(Client(), provider, "eve-sub")
    assert response.status_code == 302
    eve.refresh_from_db()
    assert eve.email == "eve@example.edu"

    # Verified but another account's address: kept too, and the sign-in still works.
    set_identity(provider, "eve-sub", email="TAKEN@example.edu", email_verified=True)
    other = Client()
    response = sign_in(other, provider, "eve-sub")
    assert (response.status_code, response["Location"]) == (302, "/dashboard/")
    assert _signed_in_user_id(other) == str(eve.pk)
    eve.refresh_from_db()
    assert eve.email == "eve@example.edu"

    # Verified and free: the account follows the provider.
    set_identity(provider, "eve-sub", email="eve@new.example.edu", email_verified=True)
    sign_in(Client(), provider, "eve-sub")
    eve.refresh_from_db()
    assert eve.email == "eve@new.example.edu"
