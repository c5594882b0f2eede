"""The manager pages read a fixed number of queries, whatever the number of learners,
invitations and rows (a page of each is shown; counts come from aggregates)."""

import re

import pytest

from b2b.services.invitations.invite import InviteRow, invite_many
from b2b.services.invitations.jobs import start_invite_job
from b2b.services.invitations.uploads import UploadRow
from courses.models import CourseRun
from tests.b2b.helpers import capped_contract, contract_with_products
from tests.support import factories as f

pytestmark = pytest.mark.django_db

# Per request: the session and its user, the manager rule, then the page's own reads, and the
# header's "Manage" link (b2b.context_processors) on the HTML pages.
OVERVIEW_QUERIES = 18  # with the progress (contracts, 3 counts), the role, its digests
CONTRACT_QUERIES = 25  # with the progress summary (3)
JOB_QUERIES = 10
STATUS_QUERIES = 5
CSV_QUERIES = 11  # the session, the manager rule, the contract, then a chunk of members


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


@pytest.mark.parametrize("members", [1, 9])
def test_the_learners_list_shows_each_members_runs_in_fixed_queries(
    manager_client, orgs, members, django_assert_num_queries
):
    """A three-course contract: member i is enrolled in the first i % 4 runs; the page and the
    CSV list them, with the same number of queries whatever the number of members."""
    contract, _products = contract_with_products(
        products=3, parent=orgs.a, max_learners=20, title="Acme Three"
    )
    runs = list(CourseRun.objects.filter(b2b_contract=contract).order_by("courseware_id"))
    expected = {}
    for i in range(members):
        member = f.ContractMembershipFactory(
            contract=contract, user=f.UserFactory(email=f"m{i}@acme.example")
        )
        for run in runs[: i % 4]:
            f.CourseRunEnrollmentFactory(user=member.user, run=run)
        expected[member.user.email] = [run.courseware_id for run in runs[: i % 4]]
    html = _count(
        manager_client,
        f"/manage/contracts/{contract.pk}/",
        django_assert_num_queries,
        CONTRACT_QUERIES - 1,  # no open invitation to list: one query fewer
    ).content.decode()
    for email, keys in expected.items():
        row = html.split(f'<td data-label="E-mail">{email}</td>')[1].split("</tr>")[0]
        shown = re.findall(r'<span class="code">([^<]+)</span>', row)
        assert shown == keys
    with django_assert_num_queries(CSV_QUERIES):
        response = manager_client.get(f"/manage/contracts/{contract.pk}/learners.csv")
        body = b"".join(response.streaming_content).decode()
    rows = {line.split(",")[0]: line.split(",")[-1] for line in body.splitlines()[1:]}
    assert rows == {email: " ".join(keys) for email, keys in expected.items()}
