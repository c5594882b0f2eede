"""The learner's path in a real browser: from a product URL of the codes CSV, through sign-in (or
registration), the enrollment code and checkout, to the dashboard or the receipt.

Screenshots for docs/learner-flow.md are written to docs/img/.
"""

import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from b2b.enums import MembershipSource
from b2b.models import ContractMembership
from b2b.services.codes.export import write_codes_csv
from courses.enums import EnrollmentMode
from courses.models import CourseRunEnrollment
from ecommerce.enums import OrderState
from ecommerce.models import DiscountRedemption, Order
from tests.e2e.helpers import screenshot_path, sign_in
from tests.ecommerce import helpers as h

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=screenshot_path(name), full_page=True)


def _first_csv_row(contract, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / f"codes-{contract.pk}.csv"
    write_codes_csv(contract, path)
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.DictReader(handle))


def _apply_code(page: Page, code: str) -> None:
    page.get_by_role("textbox", name="Enrollment code").fill(code)
    page.get_by_role("button", name="Apply code").click()


def test_zero_value_flow_from_the_codes_csv(page: Page, site, tmp_path):
    contract, (product,) = h.b2b_product(max_learners=10)
    run = product.purchasable_object
    learner = h.learner("ada@example.com", name="Ada Lovelace")
    row = _first_csv_row(contract, tmp_path)
    assert row["Product URL"] == f"{site.url}/cart/add/?product_id={product.pk}"

    page.goto(row["Product URL"])
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    _shot(page, "learner-sign-in.png")
    sign_in(page, learner.email)

    expect(page).to_have_url(f"{site.url}/cart/")
    expect(page.get_by_role("heading", name="An enrollment code is required")).to_be_visible()
    expect(page.get_by_test_id("cart-total")).to_have_text("$0.00")
    expect(page.get_by_role("button", name="Check out")).to_have_count(0)
    _shot(page, "learner-cart-code-required.png")

    _apply_code(page, row["Code"])
    expect(page.get_by_text("Your enrollment code is applied.")).to_be_visible()
    expect(page.get_by_text(f"Code {row['Code']} is applied.")).to_be_visible()
    _shot(page, "learner-cart-code-applied.png")

    page.get_by_role("button", name="Check out").click()
    expect(page).to_have_url(f"{site.url}/dashboard/")
    expect(page.get_by_text(f"You are enrolled in {run.title}.")).to_be_visible()
    expect(page.get_by_role("heading", name=run.title, level=3)).to_be_visible()
    expect(page.locator(".card .status")).to_have_text("Verified")  # the contract covers it
    _shot(page, "learner-dashboard.png")

    order = Order.objects.get(purchaser=learner)
    assert (order.state, order.total_price_paid) == (OrderState.FULFILLED, Decimal("0.00"))
    assert DiscountRedemption.objects.get().discount.discount_code == row["Code"]
    assert ContractMembership.objects.get(user=learner).source == MembershipSource.CODE
    enrollment = CourseRunEnrollment.objects.get(user=learner)
    assert (enrollment.run, enrollment.mode) == (run, EnrollmentMode.VERIFIED)


def test_invalid_code_message(page: Page, site):
    _contract, (product,) = h.b2b_product(max_learners=10)
    learner = h.learner("grace@example.com")
    page.set_viewport_size(PHONE)
    page.goto(f"{site.url}/cart/add/?product_id={product.pk}")
    sign_in(page, learner.email)

    _apply_code(page, "not-a-real-code")

    field = page.get_by_role("textbox", name="Enrollment code")
    expect(page.get_by_text("This code does not exist. Check it and try again.")).to_be_visible()
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Check out")).to_have_count(0)
    _shot(page, "learner-cart-invalid-code-phone.png")
    assert not Order.objects.exists()


def test_priced_flow_through_the_payment_processor(page: Page, site, standin, tmp_path):
    contract, (product,) = h.b2b_product(max_learners=10, enrollment_fixed_price=Decimal("150"))
    run = product.purchasable_object
    row = _first_csv_row(contract, tmp_path)

    # A new learner: from the sign-in page to registration, and back to the product.
    page.goto(row["Product URL"])
    page.get_by_role("link", name="Create an account").last.click()
    page.get_by_label("Email").fill("hopper@example.com")
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Password", exact=True).fill(h.PASSWORD)
    page.get_by_label("Password confirmation").fill(h.PASSWORD)
    _shot(page, "learner-register.png")
    page.get_by_role("button", name="Create my account").click()

    expect(page).to_have_url(f"{site.url}/cart/")
    _apply_code(page, row["Code"])
    expect(page.get_by_test_id("cart-total")).to_have_text("$150.00")
    _shot(page, "learner-cart-priced.png")

    page.get_by_role("button", name="Check out").click()
    # Our page posts the signed form to the processor, which posts its signed answer back.
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(page.get_by_text("Complete.")).to_be_visible()
    _shot(page, "learner-receipt.png")

    assert standin.rejected == []
    (sent,) = standin.received
    order = Order.objects.get()
    assert (sent["amount"], sent["reference_number"]) == ("150.00", order.reference_number)
    assert (order.state, order.total_price_paid) == (OrderState.FULFILLED, Decimal("150.00"))
    assert order.purchaser.email == "hopper@example.com"
    assert ContractMembership.objects.get(contract=contract).source == MembershipSource.PURCHASE
    enrollment = CourseRunEnrollment.objects.get()
    assert (enrollment.run, enrollment.mode) == (run, EnrollmentMode.VERIFIED)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name=run.title, level=3)).to_be_visible()


def test_declined_payment_shows_why(page: Page, site, standin):
    standin.decision = "DECLINE"
    _contract, (product,) = h.b2b_product(max_learners=10, enrollment_fixed_price=Decimal("150"))
    learner = h.learner("turing@example.com")
    page.goto(f"{site.url}/cart/add/?product_id={product.pk}")
    sign_in(page, learner.email)
    _apply_code(page, h.code_for(product).discount_code)
    page.get_by_role("button", name="Check out").click()

    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    expect(page.get_by_text("Your payment was declined (Insufficient funds).")).to_be_visible()
    _shot(page, "learner-payment-declined.png")
    order = Order.objects.get()
    assert order.state == OrderState.DECLINED
    assert not CourseRunEnrollment.objects.exists()
