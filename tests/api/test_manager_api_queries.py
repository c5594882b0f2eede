"""Every list of the manager API runs the same number of queries with 2 rows as with 12."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from b2b.services.invitations.invite import InviteRow, invite_many
from b2b.services.invitations.jobs import run_invite_job, start_invite_job
from b2b.services.invitations.managers import grant_manager
from b2b.services.invitations.uploads import UploadRow
from courses.models import CourseRun
from tests.b2b.helpers import capped_contract
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db

API = "/api/v1/manager"


def _grow(org, contract, manager, n: int, start: int) -> None:
    run = CourseRun.objects.filter(b2b_contract=contract).first()
    for i in range(start, start + n):
        member = f.ContractMembershipFactory(
            contract=contract, user=f.UserFactory(email=f"member{i}@acme.example")
        )
        f.CourseRunEnrollmentFactory(user=member.user, run=run)
        capped_contract(org, cap=3, title=f"Other {i}")
    invite_many(
        contract=contract,
        rows=[InviteRow(f"invitee{i}@acme.example") for i in range(start, start + n)],
        by=manager,
    )
    job = start_invite_job(
        contract=contract,
        rows=[
            UploadRow(line=i + 2, email=f"row{start + i}@acme.example", name="") for i in range(n)
        ],
        by=manager,
    )
    run_invite_job(job_id=job.pk)  # finished and small: its rows are in its resource


def _queries(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["results"])


def test_lists_cost_the_same_whatever_their_length(site_tree):
    org = f.OrganizationPageFactory(title="Acme University")
    contract = capped_contract(org, cap=100, title="Acme Sales")
    manager = h.learner("lead@acme.example")
    grant_manager(user=manager, organization=org)
    client = APIClient()
    client.force_authenticate(manager)
    job_id = None
    urls = {
        "contracts": f"{API}/contracts/",
        "learners": f"{API}/contracts/{contract.pk}/learners/",
        "invitations": f"{API}/contracts/{contract.pk}/invitations/",
        "jobs": f"{API}/contracts/{contract.pk}/jobs/",
    }
    counts = {}
    for n, start in ((2, 0), (12, 100)):
        _grow(org, contract, manager, n, start)
        job_id = contract.invite_jobs.order_by("-pk").first().pk
        urls["results"] = f"{API}/contracts/{contract.pk}/jobs/{job_id}/results/"
        counts[n] = {name: _queries(client, url) for name, url in urls.items()}
    assert counts[2]["learners"][1] == 2 and counts[12]["learners"][1] == 14
    assert counts[12]["invitations"][1] == 14 + 14  # the jobs' rows were invited too
    assert counts[12]["contracts"][1] == 15
    assert counts[12]["results"][1] == 12
    assert {name: q for name, (q, _) in counts[2].items()} == {
        name: q for name, (q, _) in counts[12].items()
    }
