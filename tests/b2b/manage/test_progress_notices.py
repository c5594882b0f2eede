"""The learner is told what their organization sees of their progress, in one sentence per
visibility: on the invitation page, in the cart of a contract's course, and on the dashboard's
contract cards (where a learner attached by single sign-on first lands)."""

import pytest
from bs4 import BeautifulSoup

from b2b.enums import ProgressVisibility
from b2b.services.invitations.invite import invite
from courses.models import CourseRun
from ecommerce.models import Product
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db

PER_LEARNER = (
    "Your organization's managers see your progress in this course: enrollment, grade, pass "
    "and certificate."
)
AGGREGATES = "Your organization sees only totals, never your results one by one."


def _notices(response) -> list[str]:
    assert response.status_code == 200
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    return [p.get_text(strip=True) for p in soup.select('[data-testid="progress-sharing"]')]


def _set(contract, visibility):
    contract.progress_visibility = visibility
    contract.save()


@pytest.mark.parametrize(
    ("visibility", "sentence"),
    [(ProgressVisibility.PER_LEARNER, PER_LEARNER), (ProgressVisibility.AGGREGATES, AGGREGATES)],
)
def test_the_invitation_page_says_what_is_shared(client, orgs, visibility, sentence):
    _set(orgs.contract_a, visibility)
    invitation = invite(contract=orgs.contract_a, email="new@acme.example", by=orgs.manager)
    client.force_login(h.learner("new@acme.example"))
    assert _notices(client.get(f"/invitations/{invitation.token}/")) == [sentence]


def test_the_cart_says_it_only_for_a_contracts_course(client, orgs):
    _set(orgs.contract_a, ProgressVisibility.AGGREGATES)
    learner = h.learner("buyer@acme.example")
    client.force_login(learner)
    run = CourseRun.objects.filter(b2b_contract=orgs.contract_a).first()
    product = Product.objects.get(object_id=run.pk)
    client.get(f"/cart/add/?product_id={product.pk}")
    assert _notices(client.get("/cart/")) == [AGGREGATES]

    plain = f.ProductFactory()
    client.get(f"/cart/add/?product_id={plain.pk}")
    assert _notices(client.get("/cart/")) == []


def test_the_dashboards_contract_cards_say_it(client, orgs):
    learner = h.learner("sso@acme.example")
    f.ContractMembershipFactory(contract=orgs.contract_a, user=learner)  # as SSO attaches
    other = f.ContractPageFactory(
        parent=orgs.a, title="Acme Private", progress_visibility=ProgressVisibility.AGGREGATES
    )
    run = f.CourseRunFactory(b2b_contract=other, live=True)
    f.ContractMembershipFactory(contract=other, user=learner)
    f.CourseRunEnrollmentFactory(user=learner, run=run)
    client.force_login(learner)
    notices = _notices(client.get("/dashboard/"))
    assert sorted(notices) == sorted([PER_LEARNER, AGGREGATES])
