"""An invitee in a real browser: from the invitation's link, through sign-in and the landing
page, to two courses of one contract on one seat (free: the second from the dashboard; priced:
the second bought without a code through the payment processor)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from b2b.models import ContractMembership
from b2b.services.invitations.invite import invite
from b2b.services.memberships import seats_taken
from courses.models import CourseRunEnrollment
from ecommerce.enums import OrderState
from ecommerce.models import Order
from tests.e2e.helpers import screenshot_path, sign_in
from tests.ecommerce import helpers as h

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _accept(page: Page, site, invitation, learner, courses) -> None:
    page.goto(f"{site.url}/invitations/{invitation.token}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/invitations/"))
    sign_in(page, learner.email)
    expect(page).to_have_url(f"{site.url}/invitations/{invitation.token}/")
    for run in courses:
        expect(page.get_by_role("heading", name=run.title, level=3)).to_be_visible()
    page.screenshot(path=screenshot_path("invitation-landing.png"), full_page=True)
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page).to_have_url(re.compile(r"/cart/\?code="))
    page.get_by_role("button", name="Apply code").click()
    expect(page.get_by_text(f"Code {invitation.code.discount_code} is applied.")).to_be_visible()
    page.get_by_role("button", name="Check out").click()


def _runs(products, invitation):
    """The run of the invitation's code first (the accept button's course), then the others."""
    code_product = invitation.code.products.get()
    return [code_product.purchasable_object] + [
        p.purchasable_object for p in products if p.pk != code_product.pk
    ]


def test_an_invitee_enrolls_in_two_courses_of_a_free_contract(page: Page, site):
    contract, products = h.b2b_product(products=3, max_learners=2)
    learner = h.learner("ada@example.com")
    invitation = invite(contract=contract, email=learner.email, by=None)
    first, second, third = _runs(products, invitation)

    _accept(page, site, invitation, learner, (first, second, third))

    expect(page).to_have_url(f"{site.url}/dashboard/")
    expect(page.get_by_text(f"You are enrolled in {first.title}.")).to_be_visible()
    page.get_by_role("button", name=f"Enroll in {second.title}").click()
    expect(page.get_by_text(f"You are enrolled in {second.title}.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Enroll in {third.title}")).to_be_visible()
    page.screenshot(path=screenshot_path("invitation-dashboard.png"), full_page=True)

    enrolled = CourseRunEnrollment.objects.filter(user=learner, active=True)
    assert set(enrolled.values_list("run_id", flat=True)) == {first.pk, second.pk}
    assert ContractMembership.objects.filter(contract=contract).count() == 1
    assert seats_taken(contract) == 1


def test_an_invitee_buys_a_second_course_without_a_code(
    page: Page,
    site,
    standin,
):
    contract, products = h.b2b_product(
        products=2, max_learners=None, enrollment_fixed_price=Decimal("60")
    )
    learner = h.learner("grace@example.com")
    invitation = invite(contract=contract, email=learner.email, by=None)
    first, second = _runs(products, invitation)

    _accept(page, site, invitation, learner, (first, second))
    expect(page.get_by_text("Complete.")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name=f"Buy {second.title} for $60.00").click()
    expect(page).to_have_url(f"{site.url}/cart/")
    expect(page.get_by_role("heading", name="Offered through your organization")).to_be_visible()
    expect(page.get_by_test_id("cart-total")).to_have_text("$60.00")
    page.get_by_role("button", name="Check out").click()
    expect(page.get_by_text("Complete.")).to_be_visible()

    assert standin.rejected == []
    assert [sent["amount"] for sent in standin.received] == ["60.00", "60.00"]
    orders = Order.objects.filter(purchaser=learner).order_by("pk")
    assert [(o.state, o.total_price_paid, o.discount_id) for o in orders] == [
        (OrderState.FULFILLED, Decimal("60.00"), invitation.code_id),
        (OrderState.FULFILLED, Decimal("60.00"), None),
    ]
    enrolled = CourseRunEnrollment.objects.filter(user=learner, active=True)
    assert set(enrolled.values_list("run_id", flat=True)) == {first.pk, second.pk}
    assert ContractMembership.objects.filter(contract=contract).count() == 1
