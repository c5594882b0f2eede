"""The OpenAPI schema is for staff: anonymous visitors and learners are refused."""

import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_get_no_schema(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 401  # not signed in: a token or a session is asked for
    assert b"openapi" not in response.content


def test_learners_get_no_schema(client):
    client.force_login(f.UserFactory())
    assert client.get("/api/v1/schema/").status_code == 403


def test_staff_get_the_schema_of_the_project_api_only(client):
    client.force_login(f.UserFactory(is_staff=True))
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "B2B contracts API"
    # Wagtail's admin API (/cms/api/...) serves the editor's own screens; it is not ours to
    # publish, and drf-spectacular cannot describe it.
    assert [path for path in schema["paths"] if not path.startswith("/api/v1/")] == []


def test_the_schema_validates_with_no_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
