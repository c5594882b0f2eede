"""The health report: every check, each seeded into a broken state and found (and repaired by
``--fix`` where that is safe), with a constant number of queries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from b2b.models import ContractCodeStatus, InvitationEmail
from b2b.services.health.repair import repair_findings
from b2b.services.health.report import health_report
from b2b.services.invitations.invite import invite
from config.health_registry import HealthSeverity
from courses.enums import EdxCopyState, EdxSyncState
from courses.models import CourseRun, CourseRunEnrollment
from ecommerce.enums import OrderState, RedemptionType, TransactionType
from ecommerce.models import ContractCodeTerms, Discount, Product
from tests.b2b.helpers import (
    codes,
    contract_with_products,
    reconcile,
    redeem,
    stall_invitation_work,
)
from tests.support import factories as f

# What the whole report reads, whatever the number of contracts, codes and learners.
REPORT_QUERIES = 16  # 14, and the progress checks: the runs' syncs, the digests

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(site_tree, no_openedx):
    """A capped contract (3 learners, $0) with two products and its codes in line."""
    contract, products = contract_with_products(max_learners=3)
    reconcile(contract)
    contract.products_ = products
    return contract


@pytest.fixture
def repair(django_capture_on_commit_callbacks):
    """``repair_findings`` on a fresh report, running the work it queues after commit (no
    broker: the tasks run eagerly, as on the embedded default)."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return repair_findings(health_report())

    return run


def found(contract_id=None):
    return [
        (x.check, x.severity, x.contract_id, x.what)
        for x in health_report(contract_id=contract_id).findings
    ]


def test_a_contract_in_line_is_healthy(contract):
    assert found() == []


def only(check, contract_id=None):
    return [x for x in health_report(contract_id=contract_id).findings if x.check == check]


def product_run(product):
    return CourseRun.objects.get(pk=product.object_id)


def test_more_members_than_the_cap(contract, repair):
    for _ in range(4):
        f.ContractMembershipFactory(contract=contract)
    assert found() == [
        ("over-cap", HealthSeverity.ERROR, contract.pk, "4 learners, over the cap of 3")
    ]
    outcome = repair()
    assert [(x.check, why) for x, why in outcome.left] == [("over-cap", "needs a person")]
    assert outcome.repaired == []


def test_a_one_time_code_redeemed_twice(contract):
    code = codes(contract.products_[0]).first()
    redeem(code)
    redeem(code)
    assert found() == [
        (
            "code-redeemed-twice",
            HealthSeverity.ERROR,
            contract.pk,
            f"1 one-time code(s) redeemed more than once (e.g. {code.discount_code}: 2 times)",
        )
    ]


def test_usable_codes_that_differ_from_the_rules_are_found_and_reconciled(contract, repair):
    first, second = contract.products_
    codes(first).filter(pk=codes(first).first().pk).update(is_active=False)
    Discount.objects.filter(pk=codes(second).first().pk).update(
        redemption_type=RedemptionType.UNLIMITED
    )
    # The codes' price is the contract's one terms row: changed, it moves every code.
    ContractCodeTerms.objects.filter(pk=contract.pk).update(amount=Decimal("5.00"))
    assert found() == [
        (
            "codes-differ",
            HealthSeverity.WARNING,
            contract.pk,
            f"product {first.pk} ({product_run(first).courseware_id}): "
            "2 usable codes, the rules say 3; 2 usable codes not at the contract's price $0.00",
        ),
        (
            "codes-differ",
            HealthSeverity.WARNING,
            contract.pk,
            f"product {second.pk} ({product_run(second).courseware_id}): 3 usable codes not "
            "at the contract's price $0.00; 1 usable codes not one time",
        ),
    ]
    outcome = repair()
    assert [why for _, why in outcome.repaired] == ["requested the code reconciliation"] * 2
    assert found() == []  # the reconciliation ran at once (no broker: eager)


def test_codes_waiting_for_a_reconciliation_are_not_compared_yet(contract):
    codes(contract.products_[0]).filter(pk=codes(contract.products_[0]).first().pk).update(
        is_active=False
    )
    ContractCodeStatus.objects.filter(pk=contract.pk).update(
        requested_version=99, pending_since=timezone.now()
    )
    assert found() == []


def test_an_uncapped_contract_wants_one_unlimited_code_per_product(site_tree, no_openedx):
    contract, products = contract_with_products(max_learners=None, products=1)
    reconcile(contract)
    assert found() == []
    f.DiscountProductFactory(
        product=products[0],
        discount__b2b_contract=contract,
        discount__redemption_type=RedemptionType.UNLIMITED,
    )
    assert [x.what for x in only("codes-differ")] == [
        f"product {products[0].pk} ({product_run(products[0]).courseware_id}): "
        "2 usable codes, the rules say 1"
    ]


def test_open_invitations_of_an_uncapped_contract_are_not_the_pools_codes(
    site_tree, no_openedx, django_assert_num_queries
):
    contract, products = contract_with_products(max_learners=None, products=2)
    reconcile(contract)
    for email in ("ada@example.com", "bob@example.com", "cy@example.com"):
        invite(contract=contract, email=email, by=None)  # a personal one-time code each
    assert Discount.objects.filter(b2b_contract=contract, is_bulk=False).count() == 3
    with django_assert_num_queries(REPORT_QUERIES):
        assert found() == []
    # The pool's own rule still holds: a stray one-time code in the pool is found.
    f.DiscountProductFactory(
        product=products[0],
        discount__b2b_contract=contract,
        discount__is_bulk=True,
        discount__redemption_type=RedemptionType.ONE_TIME,
    )
    assert [x.what for x in only("codes-differ")] == [
        f"product {products[0].pk} ({product_run(products[0]).courseware_id}): "
        "2 usable codes, the rules say 1; 1 usable codes not unlimited"
    ]


def test_a_product_priced_apart_from_the_contract(contract, repair):
    product = contract.products_[0]
    Product.objects.filter(pk=product.pk).update(price=Decimal("12.50"))
    assert found() == [
        (
            "product-price",
            HealthSeverity.WARNING,
            contract.pk,
            f"product {product.pk} ({product_run(product).courseware_id}) costs $12.50, the "
            "contract's price is $0.00",
        )
    ]
    repair()
    assert Product.objects.get(pk=product.pk).price == Decimal("0.00")
    assert found() == []


def test_a_run_without_a_product(contract):
    product = contract.products_[0]
    Product.objects.filter(pk=product.pk).update(is_active=False)
    key = product_run(product).courseware_id
    assert found() == [
        (
            "run-without-product",
            HealthSeverity.ERROR,
            contract.pk,
            f"run {key} has no active product: its learners cannot enroll",
        )
    ]


def test_runs_whose_dates_differ_from_the_contract(contract):
    type(contract).objects.filter(pk=contract.pk).update(
        contract_start=date(2026, 3, 1), contract_end=date(2026, 6, 30)
    )
    findings = only("run-dates")
    keys = sorted(product_run(p).courseware_id for p in contract.products_)
    assert [(x.subject, x.severity) for x in findings] == [
        (key, HealthSeverity.WARNING) for key in keys
    ]
    tz = timezone.get_current_timezone()
    start = timezone.datetime(2026, 3, 1, tzinfo=tz).isoformat(timespec="minutes")
    end = timezone.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=tz).isoformat(
        timespec="minutes"
    )
    assert findings[0].what == (
        f"run {keys[0]}: start none (contract: {start}); enrollment start none (contract: "
        f"{start}); end none (contract: {end}); enrollment end none (contract: {end})"
    )
    # Runs in line with the dates are not reported.
    CourseRun.objects.filter(b2b_contract=contract).update(
        start_date=timezone.datetime(2026, 3, 1, tzinfo=tz),
        enrollment_start=timezone.datetime(2026, 3, 1, tzinfo=tz),
        end_date=timezone.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=tz),
        enrollment_end=timezone.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=tz),
    )
    assert only("run-dates") == []


def test_codes_pending_too_long_are_found_and_queued_again(contract, settings, repair):
    settings.B2B_HEALTH_CODES_PENDING_SECONDS = 3600
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    ContractCodeStatus.objects.filter(pk=contract.pk).update(
        requested_version=status.requested_version + 1,
        pending_since=timezone.now() - timedelta(minutes=59),
    )
    assert found() == []  # not late yet
    since = timezone.now() - timedelta(hours=2)
    ContractCodeStatus.objects.filter(pk=contract.pk).update(pending_since=since)
    assert found() == [
        (
            "codes-pending",
            HealthSeverity.WARNING,
            contract.pk,
            f"codes pending reconciliation since {since.isoformat(timespec='minutes')}",
        )
    ]
    outcome = repair()
    assert [(x.check, why) for x, why in outcome.repaired] == [
        ("codes-pending", "requested the code reconciliation")
    ]
    assert ContractCodeStatus.objects.get(pk=contract.pk).is_pending is False
    assert found() == []


def test_a_failed_reconciliation_is_found_and_tried_again(contract, repair):
    ContractCodeStatus.objects.filter(pk=contract.pk).update(last_error="deadlock detected")
    assert found() == [
        (
            "reconciliation-failed",
            HealthSeverity.ERROR,
            contract.pk,
            "the last code reconciliation failed: deadlock detected",
        )
    ]
    repair()
    assert ContractCodeStatus.objects.get(pk=contract.pk).last_error == ""
    assert found() == []


def _copy_state(run, state, *, error="", age=timedelta(0)):
    CourseRun.objects.filter(pk=run.pk).update(
        edx_copy_state=state,
        edx_copy_error=error,
        edx_copy_source="course-v1:UAI_SOURCE+C1+SOURCE",
        edx_copy_updated_on=timezone.now() - age,
    )


def test_open_edx_copies_failed_or_pending_too_long(contract, settings, repair):
    settings.B2B_HEALTH_OPENEDX_PENDING_SECONDS = 3600
    failed, pending = (product_run(p) for p in contract.products_)
    _copy_state(failed, EdxCopyState.FAILED, error="Studio answered 403")
    _copy_state(pending, EdxCopyState.PENDING, age=timedelta(minutes=30))
    assert found() == [
        (
            "copy-failed",
            HealthSeverity.ERROR,
            contract.pk,
            f"Open edX copy of {failed.courseware_id} failed: Studio answered 403",
        )
    ]
    _copy_state(pending, EdxCopyState.PENDING, age=timedelta(hours=2))
    assert [x.check for x in health_report().findings] == ["copy-failed", "copy-pending"]
    # Without the Open edX settings the copies cannot be queued: left for a person, saying why.
    outcome = repair()
    assert outcome.repaired == []
    assert [why.startswith("could not repair: ") for _, why in outcome.left] == [True, True]


def test_fix_queues_the_open_edx_copies_again(contract, openedx_server, repair):
    run = product_run(contract.products_[0])
    openedx_server.add_studio_run("course-v1:UAI_SOURCE+C1+SOURCE")
    _copy_state(run, EdxCopyState.FAILED, error="Studio answered 500")
    outcome = repair()
    assert [(x.check, why) for x, why in outcome.repaired] == [
        ("copy-failed", "queued the Open edX copy again")
    ]
    assert CourseRun.objects.get(pk=run.pk).edx_copy_state == EdxCopyState.CREATED
    assert run.courseware_id in openedx_server.studio_runs
    assert found() == []


def _enrollment(run, state, *, error="", age=timedelta(0)):
    enrollment = f.CourseRunEnrollmentFactory(run=run)
    CourseRunEnrollment.objects.filter(pk=enrollment.pk).update(
        edx_sync_state=state, edx_sync_error=error, updated_on=timezone.now() - age
    )
    return enrollment


def test_enrollments_not_pushed_are_found_and_pushed_again(
    contract, openedx_server, settings, repair
):
    settings.B2B_HEALTH_OPENEDX_PENDING_SECONDS = 3600
    run = product_run(contract.products_[0])
    openedx_server.add_studio_run(run.courseware_id)
    failed = _enrollment(run, EdxSyncState.FAILED, error="LMS answered 500")
    stale = _enrollment(run, EdxSyncState.PENDING, age=timedelta(hours=3))
    _enrollment(run, EdxSyncState.PENDING, age=timedelta(minutes=5))  # still in time
    _enrollment(run, EdxSyncState.SYNCED, age=timedelta(days=3))
    since = (timezone.now() - timedelta(hours=3)).isoformat(timespec="minutes")
    assert found() == [
        (
            "enrollments-not-pushed",
            HealthSeverity.ERROR,
            contract.pk,
            f"2 enrollment(s) in {run.courseware_id} not in Open edX: 1 failed (LMS answered "
            f"500), 1 pending since {since}",
        )
    ]
    for enrollment in (failed, stale):
        openedx_server.add_user(enrollment.user.email)
    outcome = repair()
    assert [why for _, why in outcome.repaired] == ["queued 2 Open edX enrollment(s) again"]
    states = CourseRunEnrollment.objects.filter(pk__in=[failed.pk, stale.pk])
    assert set(states.values_list("edx_sync_state", flat=True)) == {EdxSyncState.SYNCED}
    assert found() == []


def test_paid_orders_not_fulfilled(contract):
    product = contract.products_[0]
    code = codes(product).first()
    order = f.OrderFactory(
        state=OrderState.ERRORED,
        total_price_paid=Decimal("50.00"),
        discount=code,
        refund_due=True,
        refund_reason="Paid $50.00 but not enrolled: the contract is full",
    )
    f.LineFactory(order=order, product=product)
    f.TransactionFactory(
        order=order, amount=Decimal("50.00"), transaction_type=TransactionType.PAYMENT
    )
    declined = f.OrderFactory(state=OrderState.DECLINED, discount=code)
    f.TransactionFactory(order=declined, amount=Decimal("0.00"))  # nothing was paid
    assert found() == [
        (
            "paid-not-fulfilled",
            HealthSeverity.ERROR,
            contract.pk,
            f"order {order.pk} was paid $50.00 but is errored: Paid $50.00 but not enrolled: "
            "the contract is full",
        )
    ]


def test_fulfilled_orders_without_their_membership_or_enrollment(contract):
    product = contract.products_[0]
    run = product_run(product)
    order = f.OrderFactory(state=OrderState.FULFILLED)
    f.LineFactory(order=order, product=product)
    assert found() == [
        (
            "fulfilled-incomplete",
            HealthSeverity.ERROR,
            contract.pk,
            f"order {order.pk} is fulfilled but its learner is not a member of contract "
            f"{contract.pk} and not enrolled in run id(s) {run.pk}",
        )
    ]
    f.ContractMembershipFactory(contract=contract, user=order.purchaser)
    assert [x.what for x in only("fulfilled-incomplete")] == [
        f"order {order.pk} is fulfilled but its learner is not enrolled in run id(s) {run.pk}"
    ]
    f.CourseRunEnrollmentFactory(run=run, user=order.purchaser)
    assert found() == []


def test_one_contract_only(contract):
    other, _ = contract_with_products(max_learners=1, products=1)
    reconcile(other)
    for _ in range(2):
        f.ContractMembershipFactory(contract=other)
    assert [x.contract_id for x in health_report().findings] == [other.pk]
    assert health_report(contract_id=contract.pk).findings == []
    assert health_report(contract_id=contract.pk).contracts_checked == 1


def _break_everything(contract):
    first, second = contract.products_
    for _ in range(4):
        f.ContractMembershipFactory(contract=contract)
    code = codes(first).first()
    redeem(code)
    redeem(code)
    Product.objects.filter(pk=second.pk).update(price=Decimal("3.00"))
    ContractCodeStatus.objects.filter(pk=contract.pk).update(last_error="boom")
    _copy_state(product_run(first), EdxCopyState.FAILED, error="no")
    _enrollment(product_run(first), EdxSyncState.FAILED)
    order = f.OrderFactory(state=OrderState.FULFILLED)
    f.LineFactory(order=order, product=first)
    paid = f.OrderFactory(state=OrderState.ERRORED)
    f.LineFactory(order=paid, product=first)
    f.TransactionFactory(order=paid, amount=Decimal("5.00"))
    stall_invitation_work(contract)
    _jobs, (failed,) = stall_invitation_work(contract, jobs=0, emails=1)
    InvitationEmail.objects.filter(pk=failed.pk).update(state="failed", transient_failure=True)


def test_the_report_reads_a_constant_number_of_queries(
    contract, django_assert_num_queries, no_openedx
):
    _break_everything(contract)
    with django_assert_num_queries(REPORT_QUERIES):
        one = health_report()
    for _ in range(3):
        more, made = contract_with_products(max_learners=3)
        reconcile(more)
        more.products_ = made
        _break_everything(more)
    with django_assert_num_queries(REPORT_QUERIES):
        many = health_report()
    assert len(many.findings) == 4 * len(one.findings)
