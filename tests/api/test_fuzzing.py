"""Schema-driven fuzzing (schemathesis) of every operation of the live schema, as staff, as a
learner and as an organization manager: no 5xx, and every response matches the schema (status,
content type, body).

The schema is read from /api/v1/schema/ through the WSGI application; the requests go through
the same application, authenticated with knox tokens. Half of the generated cases aim at rows
that exist (a contract with a run, codes, a learner, an invitation and an invitation job), so
the fuzzing reaches past the 404s.
Each example runs in a savepoint rolled back afterwards, so examples do not depend on each other.
The number of examples is bounded (EXAMPLES per operation and generation mode) to keep the test
near a minute; the seed is fixed so CI runs the same cases every time.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from b2b.services.invitations.invite import invite
from b2b.services.invitations.jobs import start_invite_job
from b2b.services.invitations.managers import grant_manager
from b2b.services.invitations.uploads import UploadRow
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app():
    """The project's WSGI handler, keeping the test's database connection open between requests
    (a real server closes it at the end of each request; the test's transaction lives on it), as
    Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(settings, no_openedx, site_tree):
    """A staff account and a learner with tokens; a contract with runs, codes and a member."""
    settings.ALLOWED_HOSTS = ["*"]
    staff = f.UserFactory(is_staff=True)
    learner = f.UserFactory()
    contract, products = h.b2b_product(products=2, max_learners=5)
    f.ContractMembershipFactory(contract=contract, user=learner, source="code")
    run = products[0].purchasable_object
    contract.courses.add(run.course)
    _, staff_token = AuthToken.objects.create(user=staff)
    _, learner_token = AuthToken.objects.create(user=learner)
    manager = f.UserFactory()
    grant_manager(user=manager, organization=contract.organization)
    _, manager_token = AuthToken.objects.create(user=manager)
    settings.B2B_MANAGER_API_WRITES_PER_MINUTE = 100_000  # the fuzzing is not throttled
    invitation = invite(contract=contract, email="invited@example.com", by=manager)
    job = start_invite_job(
        contract=contract, rows=[UploadRow(line=2, email="row@example.com", name="")], by=manager
    )
    return {
        "staff": {"Authorization": f"Token {staff_token}"},
        "learner": {"Authorization": f"Token {learner_token}"},
        "manager": {"Authorization": f"Token {manager_token}"},
        "existing": {
            "invitation_id": invitation.pk,
            "job_id": job.pk,
            "organization_id": contract.get_parent().pk,
            "contract_id": contract.pk,
            "user_id": learner.pk,
            "courseware_id": run.courseware_id,
            "code": h.code_for(products[1]).discount_code,
        },
    }


def _fuzz(operation, headers: dict, existing: dict) -> None:
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]

    @settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies), aim=st.booleans())
    def run(case, aim):
        if aim and case.path_parameters:
            for name in case.path_parameters:
                if name in existing:
                    case.path_parameters[name] = existing[name]
        with transaction.atomic():
            case.call_and_validate(headers=headers, checks=CHECKS)
            transaction.set_rollback(True)

    run()


@pytest.mark.parametrize("who", ["staff", "learner", "manager"])
def test_every_operation_answers_within_its_schema(world, wsgi_app, who):
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", wsgi_app, headers=world["staff"]
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = []
    for operation in operations:
        try:
            _fuzz(operation, world[who], world["existing"])
        except (Exception, BaseExceptionGroup) as error:  # a report for each failing operation
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
