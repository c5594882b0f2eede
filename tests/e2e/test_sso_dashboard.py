"""The spec's UAI scenario in a browser: a learner signs in through their organization's identity
provider, lands attached to the free SSO contract, and enrolls from the dashboard."""

import pytest
import requests
from playwright.sync_api import Page, expect

from b2b.models import ContractMembership
from courses.models import CourseRunEnrollment
from tests.e2e.helpers import screenshot_path
from tests.support import factories as f

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_learner_signs_in_through_the_provider_and_enrolls(
    page: Page, live_server, site_tree, oidc_settings, oidc_provider_url
):
    org = f.OrganizationPageFactory(title="UniversityX", org_key="UNIX")
    contract = f.ContractPageFactory(
        parent=org, title="UniversityX Contract", integration_type="sso"
    )
    course = f.CourseFactory(title="Introduction to Data Science")
    run = f.CourseRunFactory(
        course=course, b2b_contract=contract, run_tag="2026_C1", title=course.title
    )
    f.ProductFactory(purchasable_object=run, price=0)
    requests.put(
        f"{oidc_provider_url}/users/ada-sub",
        json={"email": "ada@unix.example.edu", "name": "Ada Lovelace", "organization": ["unix"]},
        timeout=10,
    ).raise_for_status()

    page.goto(f"{live_server.url}/login/")
    page.get_by_role("button", name="Sign in with your organization").click()
    page.locator("input[name=sub]").fill("ada-sub")  # the provider's own sign-in form
    page.get_by_role("button", name="Authorize").click()

    expect(page.get_by_role("heading", name="Your dashboard")).to_be_visible()
    membership = ContractMembership.objects.get(user__email="ada@unix.example.edu")
    assert (membership.contract_id, membership.source) == (contract.pk, "sso")
    expect(page.get_by_text("Introduction to Data Science")).to_be_visible()
    page.get_by_role("button", name="Enroll in Introduction to Data Science").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    assert CourseRunEnrollment.objects.filter(user=membership.user, run=run, active=True).exists()
    page.screenshot(path=screenshot_path("sso-dashboard.png"), full_page=True)
