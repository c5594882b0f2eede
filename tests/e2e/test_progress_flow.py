"""Learner progress in a real browser: an operator syncs a contract's progress from the Open edX
protocol server (``manage.py b2b_progress sync``, over HTTP); the manager signs in, sees the
funnel on the contract's page and the per-learner table on its progress page, filters "Needs
attention", ticks two learners and reminds them; the two reminders arrive at a real SMTP server.

Screenshots for docs/progress.md are written to docs/img/ (``make screenshots``).
"""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from b2b.enums import EmailState
from b2b.models import LearnerProgress, OrganizationManager, ProgressNudge
from tests.e2e.helpers import screenshot_path, sign_in
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.openedx_server import Learner
from tests.support.smtp_server import body_text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
RUN_KEY = "course-v1:ACME+LEAD+C1"


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=screenshot_path(name), full_page=True)


def _contract_with_learners(openedx_server):
    """Acme's contract, one run, eight learners in Open edX: three enrolled three weeks ago who
    have not started (they need attention), two started, two passed, one certified."""
    acme = f.OrganizationPageFactory(title="Acme University")
    contract = f.ContractPageFactory(parent=acme, title="Acme Leadership", max_learners=10)
    run = f.CourseRunFactory(
        b2b_contract=contract,
        courseware_id=RUN_KEY,
        title="Leading Teams",
        start_date=timezone.now() - timedelta(days=30),
    )
    long_ago = (timezone.now() - timedelta(days=21)).isoformat().replace("+00:00", "Z")
    plan = [
        ("nina", "Nina Notyet", {"created": long_ago}),
        ("omar", "Omar Notyet", {"created": long_ago}),
        ("pia", "Pia Notyet", {"created": long_ago}),
        ("sam", "Sam Started", {"percent": 0.35}),
        ("sue", "Sue Started", {"percent": 0.5}),
        ("pat", "Pat Passed", {"percent": 0.8, "passed": True, "letter_grade": "Pass"}),
        ("paz", "Paz Passed", {"percent": 0.9, "passed": True, "letter_grade": "Pass"}),
        (
            "cid",
            "Cid Certified",
            {
                "percent": 0.95,
                "passed": True,
                "letter_grade": "Pass",
                "cert_status": "downloadable",
            },
        ),
    ]
    learners = []
    for username, name, state in plan:
        user = h.learner(f"{username}@acme.example", name=name)
        f.ContractMembershipFactory(contract=contract, user=user)
        f.CourseRunEnrollmentFactory(user=user, run=run, mode="verified", edx_username=username)
        learners.append(Learner(username=username, email=user.email, mode="verified", **state))
    openedx_server.load_learners(RUN_KEY, learners)
    lead = h.learner("lead@acme.example", name="Lea Lead")
    OrganizationManager.objects.create(user=lead, organization=acme)
    return contract, lead


def test_manager_sees_the_funnel_filters_and_reminds_two_learners(
    page: Page, live_server, settings, site_tree, smtp_server, openedx_server
):
    settings.SITE_BASE_URL = live_server.url
    contract, lead = _contract_with_learners(openedx_server)

    out = io.StringIO()
    call_command("b2b_progress", "sync", "--contract", str(contract.pk), stdout=out, stderr=out)
    assert LearnerProgress.objects.filter(contract=contract).count() == 8

    page.goto(f"{live_server.url}/manage/")
    sign_in(page, lead.email)
    expect(page.get_by_role("heading", name="Acme University", level=1)).to_be_visible()
    page.get_by_role("link", name=contract.title, exact=True).click()
    progress = page.locator("#progress")
    expect(progress.locator(".funnel-row")).to_have_count(6)
    expect(progress.locator("[data-stage=certified] .funnel-value")).to_have_text("1 (10%)")
    expect(progress.locator("[data-stage=passed] .funnel-value")).to_have_text("3 (30%)")
    expect(progress.locator(".visually-hidden").first).to_contain_text("Started: 5 (50%)")
    _shot(page, "manager-progress-section.png")

    page.locator("#progress").get_by_role("link", name=re.compile("progress", re.I)).first.click()
    expect(page.get_by_role("heading", name=f"Progress of {contract.title}")).to_be_visible()
    table = page.locator("#progress-table tbody tr")
    expect(table).to_have_count(8)
    _shot(page, "manager-progress-page.png")

    page.locator("[data-filter=needs-attention]").click()
    expect(table).to_have_count(3)
    for name in ("Nina Notyet", "Omar Notyet"):
        page.get_by_label(f"Remind {name}").check()
    page.get_by_role("button", name="Remind the ticked learners").click()
    expect(page.get_by_text(re.compile(r"2 (learners?|reminders?)", re.I)).first).to_be_visible()

    messages = smtp_server.wait_for(2, timeout=30)
    assert sorted(m["To"] for m in messages) == ["nina@acme.example", "omar@acme.example"]
    assert all("Acme Leadership" in body_text(m, "plain") for m in messages)
    nudges = ProgressNudge.objects.filter(contract=contract)
    assert sorted(n.to for n in nudges) == ["nina@acme.example", "omar@acme.example"]
    assert {n.state for n in nudges} == {EmailState.SENT}

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/manage/contracts/{contract.pk}/progress/")
    expect(page.locator(".funnel")).to_be_visible()
    _shot(page, "manager-progress-page-phone.png")
