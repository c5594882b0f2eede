"""The OpenAPI schema is for staff: anonymous visitors and learners are refused."""

import pytest

from tests.support import factories as f

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


def test_the_schema_documents_the_manager_api(client):
    client.force_login(f.UserFactory(is_staff=True))
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    manager = {
        path: sorted(m for m in ops if m in {"get", "post"})
        for path, ops in schema["paths"].items()
        if path.startswith("/api/v1/manager/")
    }
    contract = "/api/v1/manager/contracts/{contract_id}"
    assert manager == {
        "/api/v1/manager/organizations/": ["get"],
        "/api/v1/manager/organizations/{organization_id}/": ["get"],
        "/api/v1/manager/organizations/{organization_id}/progress/": ["get"],
        "/api/v1/manager/contracts/": ["get"],
        f"{contract}/": ["get"],
        f"{contract}/learners/": ["get"],
        f"{contract}/progress/": ["get"],
        f"{contract}/progress/summary/": ["get"],
        f"{contract}/invitations/": ["get", "post"],
        f"{contract}/invitations/bulk/": ["post"],
        f"{contract}/invitations/remind/": ["post"],
        f"{contract}/invitations/{{invitation_id}}/": ["get"],
        f"{contract}/invitations/{{invitation_id}}/remind/": ["post"],
        f"{contract}/invitations/{{invitation_id}}/revoke/": ["post"],
        f"{contract}/jobs/": ["get"],
        f"{contract}/jobs/{{job_id}}/": ["get"],
        f"{contract}/jobs/{{job_id}}/results/": ["get"],
    }
    bulk = schema["paths"][f"{contract}/invitations/bulk/"]["post"]
    assert sorted(bulk["requestBody"]["content"]) == ["application/json", "multipart/form-data"]
    assert sorted(bulk["responses"]) == ["201", "202", "400", "401", "403", "404", "429", "503"]
    assert "do not send the list again" in bulk["description"]
    remind = schema["paths"][f"{contract}/invitations/{{invitation_id}}/remind/"]["post"]
    assert "429 `remind_too_soon`" in remind["description"]
    invite = schema["paths"][f"{contract}/invitations/"]["post"]
    assert sorted(invite["responses"]) == ["201", "400", "401", "403", "404", "409", "429"]
    example = invite["responses"]["201"]["content"]["application/json"]["examples"]
    assert example["Example"]["value"]["state"] == "open"
    revoke = schema["paths"][f"{contract}/invitations/{{invitation_id}}/revoke/"]["post"]
    assert "a second revoke changes nothing" in revoke["description"]
