"""Every error the API can meet answers in its own shape (``{"error": {"code", "message",
"fields"}}``), the framework's own included: a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many
fields, bad JSON, an unsupported media type, a bad Host header, an unknown address, a method
not allowed and a bug's 500. Each is a real request through the whole middleware stack.
Outside /api/ the site's pages stay as they are."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from b2b.services.invitations.managers import grant_manager
from tests.api.helpers import API, api_token
from tests.b2b.helpers import capped_contract
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    return body["error"]["message"]


@pytest.fixture
def world(site_tree):
    organization = f.OrganizationPageFactory(title="Acme University")
    manager = h.learner("lead@acme.example")
    grant_manager(user=manager, organization=organization)
    return {"ca": capped_contract(organization, cap=5, title="Acme Leadership")}


@pytest.fixture
def api(world):
    """The manager, with a real token made by `manage.py api_token`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token('lead@acme.example')}")
    return client


@pytest.fixture
def bulk_url(world):
    return f"{API}/contracts/{world['ca'].pk}/invitations/bulk/"


def test_a_body_over_the_limit_names_the_limit_and_the_row_limit(api, bulk_url, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    settings.B2B_INVITE_MAX_ROWS = 2_000
    rows = [{"email": f"person{i}@example.com", "name": "N" * 40} for i in range(3_000)]
    response = api.post(bulk_url, json.dumps({"rows": rows}), content_type="application/json")
    assert _error(response, 413, "request_too_large") == (
        "The request body is larger than the 100000 bytes the API accepts "
        "(DATA_UPLOAD_MAX_MEMORY_SIZE). A list of people to invite has at most 2000 rows "
        "(B2B_INVITE_MAX_ROWS); send a longer one as a CSV file, or in parts."
    )


def test_a_body_over_the_limit_elsewhere_names_the_limit(api, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    url = f"{API}/contracts/{world['ca'].pk}/invitations/"
    body = json.dumps({"email": "a@example.com", "name": "N" * 2_000})
    assert _error(
        api.post(url, body, content_type="application/json"), 413, "request_too_large"
    ) == (
        "The request body is larger than the 1000 bytes the API accepts "
        "(DATA_UPLOAD_MAX_MEMORY_SIZE)."
    )


def test_too_many_fields(api, bulk_url, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    fields = {f"field{i}": "x" for i in range(60)}
    response = api.post(bulk_url, fields, format="multipart")
    assert _error(response, 400, "too_many_fields") == (
        "The request has more than 50 fields (DATA_UPLOAD_MAX_NUMBER_FIELDS)."
    )


def test_bad_json_and_unsupported_media_type_and_method(api, bulk_url):
    bad = api.post(bulk_url, '{"rows": [', content_type="application/json")
    assert _error(bad, 400, "parse_error").startswith("JSON parse error")
    form = api.post(bulk_url, "rows=1", content_type="application/x-www-form-urlencoded")
    assert _error(form, 415, "unsupported_media_type") == (
        'Unsupported media type "application/x-www-form-urlencoded" in request.'
    )
    assert _error(api.put(bulk_url, {}, format="json"), 405, "method_not_allowed") == (
        'Method "PUT" not allowed.'
    )


def test_unknown_address_and_bad_host(api):
    assert (
        _error(api.get("/api/v2/nothing/"), 404, "not_found") == "No endpoint at /api/v2/nothing/"
    )
    response = api.get(f"{API}/contracts/", HTTP_HOST="not a host")
    assert _error(response, 400, "bad_request") == "Bad request."


@pytest.mark.urls("tests.config.api_boom_urls")
def test_a_bug_is_a_500_in_the_api_shape_and_logged(caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level("ERROR", logger="django.request"):
        response = client.get("/api/v1/boom/")
    assert _error(response, 500, "server_error") == (
        "The server met an error; it is logged. Try again later."
    )
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None  # a bug: its traceback is in the log, not the answer
    assert b"a bug" not in response.content


def test_pages_outside_the_api_keep_the_sites_error_pages(site_tree):
    response = Client().get("/", HTTP_HOST="not a host")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
