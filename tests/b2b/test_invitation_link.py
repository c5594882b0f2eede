"""The invitation's link: its landing page (the contract's courses, what the learner pays, the
accept button to the cart with the code), or why it no longer works."""

import pytest
from django.utils.html import escape

from b2b.services.invitations.invite import invite
from b2b.services.invitations.lifecycle import revoke
from courses.models import CourseRun
from tests.b2b.helpers import contract_with_codes, redeem
from tests.support import factories as f
from tests.support.forms import BrowserForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(site_tree):
    contract, _ = contract_with_codes(max_learners=3)
    return invite(contract=contract, email="ann@example.com", by=None)


def test_a_signed_out_visitor_signs_in_first_and_comes_back(client, invitation):
    response = client.get(f"/invitations/{invitation.token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/invitations/{invitation.token}/"


def _landing(client, invitation):
    response = client.get(f"/invitations/{invitation.token}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("price", "says"),
    [
        (None, "Nothing: the contract covers every course."),
        ("45.00", "$45.00 per course, paid when you enroll in it."),
    ],
)
def test_the_landing_page_lists_every_course_and_what_the_learner_pays(
    client, site_tree, price, says
):
    org = f.OrganizationPageFactory(title="Acme <b>University</b>")
    contract, _products = contract_with_codes(
        products=3,
        max_learners=3,
        enrollment_fixed_price=price,
        parent=org,
        title="Data <script>alert(1)</script>",
    )
    invitation = invite(contract=contract, email="ann@example.com", by=None)
    client.force_login(f.UserFactory())
    page = _landing(client, invitation)
    for run in CourseRun.objects.filter(b2b_contract=contract):
        assert f"<h3>{escape(run.title)}</h3>" in page
        assert run.courseware_id in page
    assert f'data-testid="invitation-price">{escape(says)}' in page
    assert "<script>alert(1)</script>" not in page and "<b>University</b>" not in page
    assert escape("Data <script>alert(1)</script>") in page
    accept = BrowserForm(page, form_id="accept-invitation")
    assert accept.data() == {
        "product_id": [str(invitation.code.products.get().pk)],
        "code": [invitation.code.discount_code],
    }
    added = client.get("/cart/add/", accept.data())
    assert added["Location"] == f"/cart/?code={invitation.code.discount_code}"
    cart = client.get(added["Location"])
    assert cart.context["code_form"]["code"].value() == invitation.code.discount_code


def test_a_member_is_sent_to_the_dashboard_instead(client, invitation):
    learner = f.UserFactory()
    f.ContractMembershipFactory(user=learner, contract=invitation.contract)
    client.force_login(learner)
    page = _landing(client, invitation)
    assert 'id="accept-invitation"' not in page
    assert "its courses are on your dashboard" in page


@pytest.mark.parametrize("courses", [1, 4])
def test_the_landing_page_reads_a_fixed_number_of_queries(
    client, site_tree, courses, django_assert_num_queries
):
    contract, _ = contract_with_codes(products=courses, max_learners=3)
    invitation = invite(contract=contract, email="ann@example.com", by=None)
    client.force_login(f.UserFactory())
    # the session and its user; the invitation, its organization, its runs, their products;
    # the learner's membership; the header's "does this user manage an organization"
    with django_assert_num_queries(8):
        _landing(client, invitation)


def test_a_revoked_invitation_says_it_was_withdrawn(client, invitation):
    revoke(invitation=invitation, by=None)
    response = client.get(f"/invitations/{invitation.token}/")
    assert response.status_code == 410
    assert "Invitation withdrawn" in response.content.decode()
    assert invitation.code.discount_code not in response.content.decode()


def test_a_redeemed_invitation_says_it_was_used(client, invitation):
    redeem(invitation.code, f.UserFactory())
    response = client.get(f"/invitations/{invitation.token}/")
    assert response.status_code == 200
    assert "Invitation already used" in response.content.decode()


def test_an_unknown_token_is_not_found(client, site_tree):
    response = client.get("/invitations/not-a-token/")
    assert response.status_code == 404
    assert "Invitation not found" in response.content.decode()
