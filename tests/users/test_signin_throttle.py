"""Guessing passwords: repeated failed sign-ins lock the e-mail address from that client for a
while (django-axes), and the person is told how long to wait."""

from datetime import timedelta

import pytest
from django.test import Client

from tests.support import factories as f

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


@pytest.mark.parametrize(
    ("email", "headers", "where"),
    [
        ("ada\x00@example.com", {}, "form fields"),
        ("ada@example.com", {"HTTP_USER_AGENT": "Mozilla\x00/5.0"}, "User-Agent header"),
        ("ada@example.com", {"HTTP_COOKIE": "sessionid=ab\x00c"}, "Cookie header"),
    ],
    ids=["nul-in-username", "nul-in-user-agent", "nul-in-session-cookie"],
)
def test_a_sign_in_with_a_nul_character_is_refused_and_nothing_is_stored(
    client, ada, limits, email, headers, where
):
    """The throttle and the session store parts of a sign-in (the name tried, the client's
    headers, the session key) in the database, which cannot hold a NUL: the request is refused
    with a page naming where the NUL was, before anything is read or stored."""
    from axes.models import AccessAttempt

    response = client.post("/login/", {"username": email, "password": PASSWORD}, **headers)
    assert response.status_code == 400, response.content[:300]
    assert (
        f"The request has a NUL character in its {where}, which this site refuses."
    ) in response.content.decode()
    assert not _signed_in(client)
    assert not AccessAttempt.objects.exists()
