"""Guessing passwords: repeated failed sign-ins lock the e-mail address from that client for a
while (django-axes), and the person is told how long to wait."""

from datetime import timedelta

import pytest
from django.test import Client

from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-learner-password-42"
LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes."


@pytest.fixture
def ada(db):
    user = f.UserFactory(email="ada@example.com")
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return settings


def _sign_in(client: Client, email: str, password: str, path: str = "/login/"):
    return client.post(path, {"username": email, "password": password})


def _age_failures(by: timedelta) -> None:
    """Move the recorded failures back in time, as if ``by`` had passed."""
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get()
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - by)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_lockout_after_the_limit_refuses_even_the_right_password(client, ada, limits):
    for _ in range(2):
        response = _sign_in(client, "ada@example.com", "wrong")
        assert response.status_code == 200
        assert "The email or password is not correct." in response.content.decode()

    third = _sign_in(client, "ADA@example.com", "wrong")  # the case does not matter
    assert third.status_code == 429
    assert LOCKED in third.content.decode()

    right = _sign_in(client, "ada@example.com", PASSWORD)
    assert right.status_code == 429
    page = right.content.decode()
    assert LOCKED in page
    assert "<title>Sign-in paused · Learning</title>" in page
    assert not _signed_in(client)


def test_the_wait_shown_is_what_is_left(client, ada, limits):
    for _ in range(3):
        _sign_in(client, "ada@example.com", "wrong")
    _age_failures(timedelta(minutes=10))

    response = _sign_in(client, "ada@example.com", PASSWORD)

    assert response.status_code == 429
    assert "Try again in 5 minutes." in response.content.decode()


def test_the_lockout_ends_after_the_cool_off(client, ada, limits):
    for _ in range(3):
        _sign_in(client, "ada@example.com", "wrong")
    _age_failures(timedelta(minutes=16))

    response = _sign_in(client, "ada@example.com", PASSWORD)

    assert (response.status_code, response["Location"]) == (302, "/dashboard/")


def test_a_successful_sign_in_clears_the_failures(client, ada, limits):
    for _ in range(2):
        _sign_in(client, "ada@example.com", "wrong")
    assert _sign_in(client, "ada@example.com", PASSWORD).status_code == 302
    client.post("/logout/")

    for _ in range(2):
        assert _sign_in(client, "ada@example.com", "wrong").status_code == 200
    assert _sign_in(client, "ada@example.com", PASSWORD).status_code == 302


def test_the_lock_is_per_address_and_account(client, ada, limits):
    grace = f.UserFactory(email="grace@example.com")
    grace.set_password(PASSWORD)
    grace.save()
    for _ in range(3):
        _sign_in(client, "ada@example.com", "wrong")

    assert _sign_in(Client(), "grace@example.com", PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="198.51.100.4")
    assert _sign_in(elsewhere, "ada@example.com", PASSWORD).status_code == 302


@pytest.mark.parametrize("path", ["/admin/login/", "/cms/login/"])
def test_staff_sign_in_pages_are_throttled_too(client, limits, path, site_tree):
    staff = f.UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    staff.set_password(PASSWORD)
    staff.save()
    for _ in range(3):
        _sign_in(client, "staff@example.com", "wrong", path)

    response = _sign_in(client, "staff@example.com", PASSWORD, path)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not _signed_in(client)
