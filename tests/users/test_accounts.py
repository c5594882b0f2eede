"""Learner accounts: registration, sign-in by email, sign-out, password reset by email."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.support import factories as f
from users.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-learner-password-42"


@pytest.fixture
def ada(db):
    user = f.UserFactory(email="ada@example.com", name="Ada Lovelace")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_register_signs_in_and_follows_next(client):
    response = client.post(
        reverse("register"),
        {
            "email": "Grace@Example.com",
            "name": "Grace Hopper",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "/cart/add/?product_id=4",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/cart/add/?product_id=4"
    user = User.objects.get(email="Grace@example.com")
    assert (user.name, user.check_password(PASSWORD)) == ("Grace Hopper", True)
    assert int(client.session["_auth_user_id"]) == user.pk


def test_register_refuses_a_taken_email_a_missing_name_and_mismatched_passwords(client, ada):
    response = client.post(
        reverse("register"),
        {"email": "ADA@example.com", "name": "", "password1": "123", "password2": "124"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "An account with this email already exists." in page
    assert "This field is required." in page
    assert "The two password fields didn" in page
    invalid = re.findall(r'<input[^>]*name="(\w+)"[^>]*aria-invalid="true"', page)
    assert invalid == ["email", "name", "password2"]
    assert User.objects.count() == 1


def test_register_ignores_an_offsite_next(client):
    response = client.post(
        reverse("register"),
        {
            "email": "new@example.com",
            "name": "New",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "https://evil.example.com/",
        },
    )
    assert response["Location"] == "/dashboard/"


def test_sign_in_by_email_returns_to_the_product_url(client, ada):
    page = client.get("/login/?next=/cart/add/%3Fproduct_id%3D3").content.decode()
    assert '<label for="id_username">Email</label>' in page
    assert 'type="email"' in page
    response = client.post(
        reverse("login"),
        {"username": "ADA@example.com", "password": PASSWORD, "next": "/cart/add/?product_id=3"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/cart/add/?product_id=3"


def test_sign_in_without_next_lands_on_the_dashboard(client, ada):
    response = client.post(reverse("login"), {"username": ada.email, "password": PASSWORD})
    assert response["Location"] == "/dashboard/"


def test_wrong_password(client, ada):
    response = client.post(reverse("login"), {"username": ada.email, "password": "nope"})
    assert response.status_code == 200
    assert "The email or password is not correct." in response.content.decode()


def test_sign_out_is_a_post(client, ada):
    client.force_login(ada)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert "You are signed out." in client.get(response["Location"]).content.decode()


def test_password_reset_by_email(client, ada):
    response = client.post(reverse("password_reset"), {"email": "ada@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Reset your password on testserver"
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another-long-password-7", "new_password2": "another-long-password-7"},
    )
    assert done["Location"] == reverse("password_reset_complete")
    ada.refresh_from_db()
    assert ada.check_password("another-long-password-7")


def test_password_reset_for_an_unknown_email_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_settings_point_to_the_learner_sign_in(settings):
    assert settings.LOGIN_URL == "/login/" == reverse("login")
    assert settings.LOGIN_REDIRECT_URL == "/dashboard/" == reverse("ecommerce:dashboard")


def test_sign_in_page_offers_the_organization_sign_in_when_configured(client, settings):
    settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT = None
    assert "Sign in with your organization" not in client.get("/login/").content.decode()
    settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT = "https://sso.example.edu/realms/learn"
    page = client.get("/login/?next=/dashboard/").content.decode()
    assert '<form method="post" action="/auth/login/oidc/">' in page
    assert '<input type="hidden" name="next" value="/dashboard/">' in page
