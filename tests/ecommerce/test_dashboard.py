"""The dashboard: enrollments (B2B runs included) and free-contract runs to enroll in."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.enums import EnrollmentMode
from courses.models import CourseRunEnrollment
from ecommerce.exceptions import EnrollmentRefused
from ecommerce.services.contract_enrollments import enroll_in_contract_run
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _free_contract_member(learner, **terms):
    contract, products = h.b2b_product(products=2, integration_type="sso", **terms)
    f.ContractMembershipFactory(user=learner, contract=contract, source="sso")
    return contract, [p.purchasable_object for p in products]


def test_dashboard_lists_enrollments_with_b2b_runs(learner_client, learner):
    contract, (run, _other) = _free_contract_member(learner)
    f.CourseRunEnrollmentFactory(user=learner, run=run)
    plain = f.CourseRunEnrollmentFactory(user=learner)
    f.CourseRunEnrollmentFactory()  # someone else's
    page = learner_client.get(reverse("ecommerce:dashboard")).content.decode()
    assert run.courseware_id in page
    assert f"Through {contract.title}" in page
    assert plain.run.courseware_id in page
    assert page.count('<li class="card">') == 3  # 2 enrollments + 1 run still available


def test_member_of_a_free_contract_enrolls_from_the_dashboard(learner_client, learner):
    _contract, (run, other) = _free_contract_member(learner)
    page = learner_client.get(reverse("ecommerce:dashboard")).content.decode()
    assert f'aria-label="Enroll in {run.title}"' in page

    response = learner_client.post(reverse("ecommerce:dashboard-enroll", args=[run.pk]))

    assert response["Location"] == reverse("ecommerce:dashboard")
    enrollment = CourseRunEnrollment.objects.get(user=learner)
    assert (enrollment.run, enrollment.mode) == (run, EnrollmentMode.VERIFIED)
    page = learner_client.get(reverse("ecommerce:dashboard")).content.decode()
    assert f"You are enrolled in {run.title}." in page
    assert f'aria-label="Enroll in {run.title}"' not in page
    assert f'aria-label="Enroll in {other.title}"' in page


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (
            {"enrollment_fixed_price": Decimal("10")},
            "This contract has a price: buy this course through the cart.",
        ),
        ({"active": False}, "Your organization's contract is not active."),
        (
            {"contract_end": timezone.localdate() - timedelta(days=1)},
            "Your organization's contract is not open at this date.",
        ),
    ],
)
def test_dashboard_enrollment_refusals(learner, terms, message):
    _contract, (run, _other) = _free_contract_member(learner, **terms)
    with pytest.raises(EnrollmentRefused, match=re.escape(message)):
        enroll_in_contract_run(user=learner, run_id=run.pk)
    assert not CourseRunEnrollment.objects.exists()


def test_closed_contract_shows_no_enroll_button(learner_client, learner):
    _contract, (run, _other) = _free_contract_member(learner, active=False)
    page = learner_client.get(reverse("ecommerce:dashboard")).content.decode()
    assert "Enrollment is closed" in page
    assert f'aria-label="Enroll in {run.title}"' not in page


def test_non_member_and_non_b2b_runs_are_refused_alike(learner):
    contract, (product,) = h.b2b_product(max_learners=3)
    plain = f.CourseRunFactory()
    for run_id in (product.object_id, plain.pk, 999999):
        with pytest.raises(EnrollmentRefused, match=r"This course run is not available to you\."):
            enroll_in_contract_run(user=learner, run_id=run_id)
    assert not CourseRunEnrollment.objects.exists()
    assert contract.memberships.count() == 0


def test_dashboard_needs_sign_in(client, site_tree):
    response = client.get(reverse("ecommerce:dashboard"))
    assert response["Location"] == "/login/?next=/dashboard/"
