"""The progress endpoints in the OpenAPI schema, and the schema-driven fuzzing of
``test_fuzzing`` run on them alone (as staff, a learner and a manager), with progress rows to
reach past the 404s: no 5xx, every answer within the schema."""

import pytest
import schemathesis
from django.urls import reverse
from rest_framework.test import APIClient

from b2b.enums import ProgressVisibility
from courses.models import CourseRun
from tests.api.test_fuzzing import _fuzz, world, wsgi_app  # noqa: F401 (fixtures)
from tests.support import factories as f
from tests.support.progress import progress_row

PROGRESS_PATHS = {
    "/api/v1/manager/contracts/{contract_id}/progress/",
    "/api/v1/manager/contracts/{contract_id}/progress/summary/",
    "/api/v1/manager/organizations/{organization_id}/progress/",
    "/api/v1/b2b/contracts/{contract_id}/progress/",
    "/api/v1/b2b/contracts/{contract_id}/progress/summary/",
}


@pytest.mark.django_db
def test_the_schema_describes_the_progress_endpoints(site_tree):
    client = APIClient()
    client.force_authenticate(f.UserFactory(is_staff=True))
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    assert set(schema["paths"]) >= PROGRESS_PATHS
    feed = schema["paths"]["/api/v1/manager/organizations/{organization_id}/progress/"]["get"]
    assert {p["name"] for p in feed["parameters"]} == {
        "organization_id",
        "updated_since",
        "cursor",
        "page_size",
    }
    rows = schema["paths"]["/api/v1/manager/contracts/{contract_id}/progress/"]["get"]
    assert {p["name"] for p in rows["parameters"]} >= {"show", "q", "sort"}
    assert set(rows["responses"]) == {"200", "400", "401", "403", "404"}


@pytest.fixture
def progress_world(world):  # noqa: F811
    from b2b.models import ContractPage

    contract = ContractPage.objects.get(pk=world["existing"]["contract_id"])
    contract.progress_visibility = ProgressVisibility.PER_LEARNER
    contract.save(update_fields=["progress_visibility"])
    run = CourseRun.objects.filter(b2b_contract=contract).first()
    progress_row(contract, run, edx_username="fuzzed", grade_percent="0.5000", passed=True)
    progress_row(contract, run, edx_username="unmapped", cert_status="downloadable")
    return world


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.parametrize("who", ["staff", "learner", "manager"])
def test_the_progress_operations_answer_within_their_schema(
    progress_world,
    wsgi_app,  # noqa: F811
    who,
):
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", wsgi_app, headers=progress_world["staff"]
    )
    operations = [
        result.ok() for result in schema.get_all_operations() if result.ok().path in PROGRESS_PATHS
    ]
    assert len(operations) == len(PROGRESS_PATHS)
    failures = []
    for operation in operations:
        try:
            _fuzz(operation, progress_world[who], progress_world["existing"])
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
