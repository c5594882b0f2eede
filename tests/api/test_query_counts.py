"""Every list of the API runs the same number of queries with 2 rows as with 20."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.b2b.helpers import redeem
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def _add_organizations(n, *, contract, learner):
    for _ in range(n):
        org = f.OrganizationPageFactory()
        f.ContractPageFactory(parent=org)


def _add_contracts(n, *, contract, learner):
    for _ in range(n):
        other = f.ContractPageFactory()
        f.ContractMembershipFactory(contract=other)
        f.DiscountProductFactory(discount=f.DiscountFactory(b2b_contract=other))


def _add_codes(n, *, contract, learner):
    for i in range(n):
        code = f.DiscountFactory(b2b_contract=contract)
        f.DiscountProductFactory(discount=code)
        if i % 2:
            redeem(code)


def _add_learners(n, *, contract, learner):
    for _ in range(n):
        f.ContractMembershipFactory(contract=contract, created_by=f.UserFactory(is_staff=True))


def _add_runs(n, *, contract, learner):
    for _ in range(n):
        run = f.CourseRunFactory(b2b_contract=contract, run_tag=f"2026_C{contract.pk}")
        product = f.ProductFactory(purchasable_object=run, price=0)
        f.DiscountProductFactory(discount=f.DiscountFactory(b2b_contract=contract), product=product)


def _add_courseware(n, *, contract, learner):
    """Courses (every other one with a run) and programs recorded on the contract."""
    for i in range(n):
        if i % 2:
            contract.programs.add(f.ProgramFactory())
            continue
        course = f.CourseFactory()
        contract.courses.add(course)
        if i % 4 == 0:
            f.CourseRunFactory(course=course, b2b_contract=contract, run_tag=f"C{contract.pk}")


def _add_my_contracts(n, *, contract, learner):
    for _ in range(n):
        mine = f.ContractPageFactory()
        f.ContractMembershipFactory(contract=mine, user=learner)
        run = f.CourseRunFactory(b2b_contract=mine, run_tag=f"2026_C{mine.pk}")
        f.ProductFactory(purchasable_object=run)
        f.CourseRunEnrollmentFactory(user=learner, run=run)


LISTS = {
    "organizations": ("staff", "/api/v1/b2b/organizations/", _add_organizations),
    "contracts": ("staff", "/api/v1/b2b/contracts/", _add_contracts),
    "codes": ("staff", "/api/v1/b2b/contracts/{id}/codes/", _add_codes),
    "learners": ("staff", "/api/v1/b2b/contracts/{id}/learners/", _add_learners),
    "courseware": ("staff", "/api/v1/b2b/contracts/{id}/courseware/", _add_courseware),
    "runs": ("staff", "/api/v1/b2b/contracts/{id}/runs/", _add_runs),
    "me/contracts": ("learner", "/api/v1/me/contracts/", _add_my_contracts),
}


def _count(body) -> int:
    return len(body["results"])


@pytest.mark.parametrize("name", list(LISTS))
def test_list_queries_do_not_grow_with_rows(
    name, staff_api, learner_api, learner, django_assert_num_queries
):
    who, url, add = LISTS[name]
    client = staff_api if who == "staff" else learner_api
    contract = f.ContractPageFactory()
    url = url.format(id=contract.pk)
    add(2, contract=contract, learner=learner)
    few = _queries(client, url)
    rows_before = _count(client.get(url).json())
    add(18, contract=contract, learner=learner)
    with django_assert_num_queries(few):
        body = client.get(url).json()
    assert _count(body) == rows_before + 18
