"""The manager pages read a fixed number of queries, whatever the number of learners,
invitations and rows (a page of each is shown; counts come from aggregates)."""

import pytest

from b2b.services.invitations import InviteRow, invite_many
from b2b.services.invite_jobs import start_invite_job
from b2b.services.invite_upload import UploadRow
from courses.models import CourseRun
from tests import factories as f
from tests.b2b.manage.conftest import capped_contract

pytestmark = pytest.mark.django_db

# Per request: the session and its user, the manager rule, then the page's own reads, and the
# header's "Manage" link (b2b.context_processors) on the HTML pages.
OVERVIEW_QUERIES = 12
CONTRACT_QUERIES = 22
JOB_QUERIES = 10
STATUS_QUERIES = 5


def _grow(contract, manager, *, learners: int, invitations: int, start: int) -> None:
    run = CourseRun.objects.filter(b2b_contract=contract).first()
    for i in range(start, start + learners):
        member = f.ContractMembershipFactory(
            contract=contract, user=f.UserFactory(email=f"member{i}@acme.example")
        )
        f.CourseRunEnrollmentFactory(user=member.user, run=run)
    invite_many(
        contract=contract,
        rows=[InviteRow(f"invitee{i}@acme.example") for i in range(start, start + invitations)],
        by=manager,
    )


def _count(client, url, django_assert_num_queries, expected):
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("size", [1, 12])
def test_overview_and_contract_page(manager_client, orgs, size, django_assert_num_queries):
    contract = capped_contract(orgs.a, cap=100, title="Acme Sales")
    _grow(contract, orgs.manager, learners=size, invitations=size, start=0)
    _count(
        manager_client,
        f"/manage/organizations/{orgs.a.pk}/",
        django_assert_num_queries,
        OVERVIEW_QUERIES,
    )
    response = _count(
        manager_client,
        f"/manage/contracts/{contract.pk}/",
        django_assert_num_queries,
        CONTRACT_QUERIES,
    )
    html = response.content.decode()
    assert html.count('<td data-label="E-mail">member') == size
    assert html.count('<td data-label="E-mail">invitee') == size


@pytest.mark.parametrize("size", [2, 40])
def test_job_page_and_status(
    manager_client, orgs, size, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = start_invite_job(
            contract=orgs.contract_a,
            rows=[UploadRow(line=i + 2, email=f"r{i}@acme.example", name="") for i in range(size)],
            by=orgs.manager,
        )
    base = f"/manage/contracts/{orgs.contract_a.pk}/jobs/{job.pk}/"
    html = _count(manager_client, base, django_assert_num_queries, JOB_QUERIES).content.decode()
    assert html.count('<td data-label="Result">') == size
    _count(manager_client, f"{base}status/", django_assert_num_queries, STATUS_QUERIES)
