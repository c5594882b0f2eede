"""Staff screens in a real browser: Wagtail contract editing and the Django admin's user page."""

import re

import pytest
from playwright.sync_api import Page, expect

from b2b.models import ContractPage, OrganizationPage
from tests.e2e.helpers import screenshot_path
from tests.support import factories as f

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "staff-password-123"


@pytest.fixture
def staff(site_tree):
    user = f.UserFactory(email="editor@example.com", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def _sign_in(page: Page, live_server, path: str, staff) -> None:
    page.goto(f"{live_server.url}{path}")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_wagtail_create_organization_and_capped_contract(page: Page, live_server, staff, site_tree):
    f.CourseRunFactory()  # the catalog has something, though the contract has no runs yet
    _sign_in(page, live_server, "/cms/login/", staff)
    expect(page).to_have_url(re.compile(r"/cms/$"))

    index = site_tree.organizations
    page.goto(f"{live_server.url}/cms/pages/add/b2b/organizationpage/{index.pk}/")
    page.locator("#id_title").fill("Acme University")
    page.locator("#id_org_key").fill("ACME")
    page.locator("footer").get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Page 'Acme University' created and published.")).to_be_visible()
    org = OrganizationPage.objects.get(org_key="ACME")

    page.goto(f"{live_server.url}/cms/pages/add/b2b/contractpage/{org.pk}/")
    page.locator("#id_title").fill("Acme 2027")
    page.locator("#id_integration_type").select_option("non-sso")
    page.locator("#id_max_learners").fill("25")
    page.locator("footer").get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Page 'Acme 2027' created and published.")).to_be_visible()

    contract = ContractPage.objects.get(title="Acme 2027")
    run = f.CourseRunFactory(b2b_contract=contract, run_tag="2027_C1")
    f.ProductFactory(purchasable_object=run, price=0)
    page.goto(f"{live_server.url}/cms/pages/{contract.pk}/edit/")
    page.locator("footer").get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()  # publishing reconciles the codes
    page.goto(f"{live_server.url}/cms/pages/{contract.pk}/edit/")
    expect(page.locator('[data-codes="usable"]')).to_have_text("25")
    expect(page.get_by_text("0 attached of a cap of 25")).to_be_visible()
    expect(page.get_by_role("link", name="Download the codes (CSV)")).to_be_visible()
    summary = page.locator(".b2b-summary")
    summary.scroll_into_view_if_needed()
    summary.screenshot(path=screenshot_path("wagtail-contract-summary.png"))


def test_admin_adding_a_learner_to_a_full_contract_shows_the_error(page: Page, live_server, staff):
    contract = f.ContractPageFactory(title="Full House", max_learners=1)
    f.ContractMembershipFactory(contract=contract)
    learner = f.UserFactory(email="late@example.com")
    _sign_in(page, live_server, "/admin/login/", staff)
    page.goto(f"{live_server.url}/admin/users/user/{learner.pk}/change/")
    page.get_by_text(re.compile("add another contract", re.IGNORECASE)).click()
    page.locator("select[name='contract_memberships-0-contract']").select_option(str(contract.pk))
    page.locator("input[name=_save]").click()
    expect(page.get_by_text("Contract 'Full House' is full (1 learners)")).to_be_visible()
    page.screenshot(path=screenshot_path("admin-full-contract.png"), full_page=True)
    assert not learner.contract_memberships.exists()


def test_admin_staff_removes_a_learner_on_the_user_page(page: Page, live_server, staff):
    learner = f.UserFactory(email="leaving@example.com")
    f.ContractMembershipFactory(user=learner, contract__title="Old Deal")
    staying = f.ContractMembershipFactory(user=learner, contract__title="Current Deal")
    _sign_in(page, live_server, "/admin/login/", staff)
    page.goto(f"{live_server.url}/admin/users/user/{learner.pk}/change/")

    row = page.locator("#contract_memberships-group tr.has_original", has_text="Old Deal")
    row.locator("td.delete input[type=checkbox]").check()
    page.locator("input[name=_save]").click()

    expect(page.get_by_text(re.compile(r"was changed successfully"))).to_be_visible()
    assert list(learner.contract_memberships.all()) == [staying]
    page.goto(f"{live_server.url}/admin/users/user/{learner.pk}/change/")
    rows = page.locator("#contract_memberships-group tr.has_original")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Current Deal")
