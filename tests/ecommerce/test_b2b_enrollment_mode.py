"""B2B enrollments are verified: the contract covers the seat, whatever the learner paid.

Checked here and in what the fake Open edX received, for the three ways into a run: a code at
$0, a code at a price (paid through CyberSource), and the dashboard's enroll button for members
of a free contract. A free course outside any contract stays audit.
"""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from courses.enums import EdxSyncState, EnrollmentMode
from courses.models import CourseRunEnrollment
from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import OrderState
from ecommerce.models import Order
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.cybersource_server import processor_response
from tests.support.openedx_server import ENROLLMENT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_openedx():
    """Unlike the rest of tests/ecommerce, this module pushes to the fake Open edX."""


@pytest.fixture
def lms(openedx_server, learner):
    openedx_server.add_user(learner.email, "ada")
    return openedx_server


def _in_lms(lms, product):
    run = product.purchasable_object
    lms.add_studio_run(run.courseware_id)
    return run


def _apply(client, product, code=None):
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    if code is not None:
        response = client.post(reverse("ecommerce:cart-apply-code"), {"code": code.discount_code})
        assert response.status_code == 302


def _assert_enrolled(lms, learner, run, mode):
    enrollment = CourseRunEnrollment.objects.get(user=learner)
    assert (enrollment.run, enrollment.mode, enrollment.edx_sync_state) == (
        run,
        mode,
        EdxSyncState.SYNCED,
    )
    assert [request.body["mode"] for request in lms.requests_to(ENROLLMENT)] == [mode.value]
    assert lms.enrollments[("ada", run.courseware_id)]["mode"] == mode.value


def test_free_code_checkout_is_verified(
    lms, learner_client, learner, django_capture_on_commit_callbacks
):
    _contract, (product,) = h.b2b_product(max_learners=2)
    run = _in_lms(lms, product)
    _apply(learner_client, product, h.code_for(product))

    with django_capture_on_commit_callbacks(execute=True):
        learner_client.post(reverse("ecommerce:checkout"))

    assert Order.objects.get().total_price_paid == Decimal("0.00")
    _assert_enrolled(lms, learner, run, EnrollmentMode.VERIFIED)
    dashboard = learner_client.get(reverse("ecommerce:dashboard")).content.decode()
    assert '<span class="status">Verified</span>' in dashboard


def test_priced_code_checkout_is_verified(
    lms, learner_client, learner, cybersource, django_capture_on_commit_callbacks
):
    _contract, (product,) = h.b2b_product(max_learners=2, enrollment_fixed_price=Decimal("120"))
    run = _in_lms(lms, product)
    _apply(learner_client, product, h.code_for(product))
    fields = learner_client.post(reverse("ecommerce:checkout")).context["payment"].fields

    with django_capture_on_commit_callbacks(execute=True):
        Client(enforce_csrf_checks=True).post("/checkout/receipt/", processor_response(fields))

    order = Order.objects.get()
    assert (order.state, order.total_price_paid) == (OrderState.FULFILLED, Decimal("120.00"))
    _assert_enrolled(lms, learner, run, EnrollmentMode.VERIFIED)


def test_dashboard_enrollment_in_a_contract_run_is_verified(
    lms, learner_client, learner, django_capture_on_commit_callbacks
):
    contract, (product,) = h.b2b_product(integration_type="sso")
    run = _in_lms(lms, product)
    f.ContractMembershipFactory(user=learner, contract=contract, source="sso")

    with django_capture_on_commit_callbacks(execute=True):
        response = learner_client.post(reverse("ecommerce:dashboard-enroll", args=[run.pk]))

    assert response["Location"] == reverse("ecommerce:dashboard")
    _assert_enrolled(lms, learner, run, EnrollmentMode.VERIFIED)


def test_free_course_outside_contracts_stays_audit(
    lms, learner_client, learner, django_capture_on_commit_callbacks
):
    product = h.plain_product("0.00")
    run = _in_lms(lms, product)
    _apply(learner_client, product)

    with django_capture_on_commit_callbacks(execute=True):
        learner_client.post(reverse("ecommerce:checkout"))

    _assert_enrolled(lms, learner, run, EnrollmentMode.AUDIT)
