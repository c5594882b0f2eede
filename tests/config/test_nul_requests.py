"""A NUL character anywhere in a request (address, query, header, cookie, form field) is
refused with a 400 naming where it was, before the session, the API's token check or the
sign-in throttle look it up in the database (which cannot hold a NUL)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.support import factories as f
from users.services.api_tokens import create_api_token

pytestmark = pytest.mark.django_db


def _refused_page(response, where: str) -> None:
    assert response.status_code == 400, response.content[:300]
    page = response.content.decode()
    assert "<title>Request refused · Learning</title>" in page
    assert f"The request has a NUL character in its {where}, which this site refuses." in page


def test_an_api_token_with_a_nul_is_refused_in_the_apis_shape(site_tree):
    f.UserFactory(is_staff=True, email="ops@example.com")
    token = create_api_token(email="ops@example.com").token
    client = APIClient()
    forged = f"Token {token[:8]}\x00{token[9:]}"
    response = client.get("/api/v1/b2b/organizations/", HTTP_AUTHORIZATION=forged)
    assert response.status_code == 400, response.content[:300]
    assert response.json() == {
        "error": {
            "code": "nul_character",
            "message": "The request has a NUL character in its Authorization header, which this "
            "site refuses.",
            "fields": {},
        }
    }
    ok = client.get("/api/v1/b2b/organizations/", HTTP_AUTHORIZATION=f"Token {token}")
    assert ok.status_code == 200


def test_a_query_parameter_with_a_nul_is_refused_in_the_api(site_tree):
    staff = f.UserFactory(is_staff=True)
    client = APIClient()
    client.force_authenticate(staff)
    response = client.get("/api/v1/b2b/contracts/", {"organization": "1\x00"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "nul_character"


def test_a_session_cookie_with_a_nul_is_refused_on_a_page(site_tree):
    response = Client().get("/dashboard/", HTTP_COOKIE="sessionid=abc\x00def")
    _refused_page(response, "Cookie header")


def test_an_address_with_a_nul_is_refused(site_tree):
    _refused_page(Client().get("/login/", {"next": "/dashboard/\x00"}), "address")
    _refused_page(Client().get("/invitations/abc%00def/"), "address")


def test_a_clean_request_is_served(site_tree):
    assert Client().get("/login/", {"next": "/dashboard/"}).status_code == 200
