"""An organization's manager in a real browser, end to end: staff grant the role on the Django
admin's user page; the manager signs in, uploads a file of 20 addresses (3 of them bad) and
reads each row's result; an invited learner opens the invitation e-mail (real SMTP, sent by the
Celery task), follows its link, accepts on the invitation's page, applies the code and checks
out; the manager's page then shows the learner joined and the invitation redeemed.

Screenshots for docs/managers.md are written to docs/img/ (``make screenshots``).
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from b2b.enums import InvitationState, InviteOutcome, MembershipSource
from b2b.models import ContractMembership, Invitation, InviteJobRow, OrganizationManager
from ecommerce.enums import OrderState
from ecommerce.models import Order
from tests.e2e.helpers import screenshot_path
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.smtp_server import body_text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
STAFF_PASSWORD = "staff-password-123"
LEARNER = "learner07@acme.example"


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=screenshot_path(name), full_page=True)


def _upload_file() -> bytes:
    """20 rows: 17 people to invite, an address that is not one, a duplicate, a formula name."""
    lines = ["email,name"]
    lines += [f"learner{i:02d}@acme.example,Learner {i:02d}" for i in range(1, 18)]
    lines += ["not-an-address,Nobody", "LEARNER03@acme.example,Again", "sneaky@acme.example,=1+2"]
    return ("\n".join(lines) + "\n").encode()


def _sign_in(page: Page, email: str, password: str) -> None:
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _staff_grants_the_role(page: Page, url: str, lead) -> None:
    staff = f.UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    staff.set_password(STAFF_PASSWORD)
    staff.save()
    page.goto(f"{url}/admin/users/user/{lead.pk}/change/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/change/$"))
    page.get_by_text(re.compile("add another managed organization", re.IGNORECASE)).click()
    page.locator("select[name='managed_organizations-0-organization']").select_option(
        label="Acme University"
    )
    _shot(page, "manager-admin-grant.png")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    role = OrganizationManager.objects.get(user=lead)
    assert (role.organization.title, role.granted_by) == ("Acme University", staff)


def _manager_uploads(page: Page, url: str, lead, contract, tmp_path) -> None:
    page.goto(f"{url}/manage/")
    _sign_in(page, lead.email, h.PASSWORD)
    expect(page.get_by_role("heading", name="Acme University", level=1)).to_be_visible()
    expect(page.get_by_text("0 joined + 0 invited of 25 seats · 25 left")).to_be_visible()
    page.get_by_role("link", name=contract.title, exact=True).click()
    expect(page.get_by_role("heading", name=contract.title, level=1)).to_be_visible()

    upload = tmp_path / "people.csv"
    upload.write_bytes(_upload_file())
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and invite").click()

    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    totals = page.locator(".totals-list li")
    expect(totals).to_have_text(
        ["17 invited", "1 duplicate in file", "1 invalid e-mail", "1 invalid name"]
    )
    results = page.locator("table tbody tr")
    expect(results).to_have_count(20)
    expect(results.nth(17)).to_contain_text("not-an-address")
    expect(results.nth(17)).to_contain_text("invalid e-mail")
    expect(results.nth(18)).to_contain_text("duplicate in file")
    expect(results.nth(19)).to_contain_text("invalid name")
    _shot(page, "manager-upload-results.png")


def _learner_redeems(browser: Browser, url: str, smtp_server, product) -> None:
    messages = smtp_server.wait_for(17, timeout=30)
    (message,) = [m for m in messages if m["To"] == LEARNER]
    assert message["Subject"] == "You are invited to join Acme Leadership at Acme University"
    link = re.search(r"(http\S+/invitations/[\w-]+/)", body_text(message, "plain"))
    assert link and link.group(1).startswith(url)

    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(link.group(1))
        _sign_in(page, LEARNER, h.PASSWORD)
        expect(page).to_have_url(link.group(1))  # the invitation's page, then its button
        page.get_by_role("button", name="Accept the invitation").click()
        expect(page).to_have_url(re.compile(r"/cart/\?code="))
        code = Invitation.objects.get(email=LEARNER).code.discount_code
        expect(page.get_by_role("textbox", name="Enrollment code")).to_have_value(code)
        _shot(page, "manager-invited-learner-cart.png")
        page.get_by_role("button", name="Apply code").click()
        expect(page.get_by_text(f"Code {code} is applied.")).to_be_visible()
        page.get_by_role("button", name="Check out").click()
        expect(page).to_have_url(f"{url}/dashboard/")
        enrolled = f"You are enrolled in {product.purchasable_object.title}."
        expect(page.get_by_text(enrolled)).to_be_visible()
    finally:
        context.close()


def test_staff_grant_manager_invites_from_a_file_learner_joins(
    page: Page, browser: Browser, live_server, settings, site_tree, smtp_server, tmp_path
):
    settings.SITE_BASE_URL = live_server.url
    acme = f.OrganizationPageFactory(title="Acme University")
    contract, (product,) = h.b2b_product(max_learners=25, parent=acme, title="Acme Leadership")
    lead = h.learner("lead@acme.example", name="Lea Lead")
    learner = h.learner(LEARNER, name="Learner Seven")

    _staff_grants_the_role(page, live_server.url, lead)

    context = browser.new_context()
    try:
        manager = context.new_page()
        _manager_uploads(manager, live_server.url, lead, contract, tmp_path)
        assert InviteJobRow.objects.filter(outcome=InviteOutcome.INVITED).count() == 17

        _learner_redeems(browser, live_server.url, smtp_server, product)

        manager.goto(f"{live_server.url}/manage/contracts/{contract.pk}/")
        learners = manager.locator("#learners tbody tr")
        expect(learners).to_have_count(1)
        expect(learners.first).to_contain_text(LEARNER)
        expect(learners.first).to_contain_text("Enrollment code")
        row = manager.locator("#invitations tbody tr").filter(has_text=LEARNER)
        expect(row).to_contain_text("Redeemed")
        expect(row).to_contain_text(f"by {LEARNER}")
        expect(manager.get_by_text("1 joined + 16 invited of 25 seats · 8 left")).to_be_visible()
        _shot(manager, "manager-contract-page.png")
        manager.set_viewport_size(PHONE)
        _shot(manager, "manager-contract-page-phone.png")
    finally:
        context.close()

    order = Order.objects.get(purchaser=learner)
    assert order.state == OrderState.FULFILLED
    membership = ContractMembership.objects.get(user=learner)
    assert (membership.contract, membership.source) == (contract, MembershipSource.CODE)
    invitation = Invitation.objects.get(email=LEARNER)
    assert order.redemptions.get().discount_id == invitation.code_id
    assert invitation.state in (InvitationState.OPEN, InvitationState.REDEEMED)
