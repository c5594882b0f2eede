"""Enrolling from the dashboard in a run of a contract the learner already belongs to.

A member of a free contract (no price, or 0) enrolls here in any of its runs, while the
contract is active and inside its dates: b2b's ``admission_refusal`` decides, this module words
it. A member of a priced contract buys each run instead: the dashboard links to the run's
product, which they check out without a code at its price (``code_validation.member_refusal``).
Anyone else comes in through checkout with the run's enrollment code.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from wagtail.models import Page

from b2b.enums import AdmissionRefusal
from b2b.selectors.learners import member_contracts_of
from b2b.services.memberships import admission_refusal
from courses.models import CourseRun, CourseRunEnrollment
from courses.services.enrollments import enroll_learner, enrollment_mode
from ecommerce import selectors
from ecommerce.exceptions import EnrollmentRefused
from users.models import User

NOT_AVAILABLE = "This course run is not available to you."

# What the learner reads for each reason the contract gives (a member is never refused as full).
REFUSALS = {
    AdmissionRefusal.NOT_MEMBER: NOT_AVAILABLE,
    AdmissionRefusal.PRICED: "This contract has a price: buy this course through the cart.",
    AdmissionRefusal.INACTIVE: "Your organization's contract is not active.",
    AdmissionRefusal.OUTSIDE_DATES: "Your organization's contract is not open at this date.",
}


@dataclass(frozen=True)
class AvailableRun:
    run: CourseRun
    contract: Page  # the run's b2b.ContractPage
    open: bool  # the contract is active and inside its dates
    # A priced contract's run: its price and the address that puts it in the cart (None for a
    # free contract's run, enrolled in from the dashboard).
    price: Decimal | None = None
    buy_url: str | None = None


def available_contract_runs(*, user: User) -> list[AvailableRun]:
    """Runs of the learner's contracts they are not enrolled in yet (for the dashboard): a free
    contract's to enroll in, a priced contract's to buy (a fixed number of queries)."""
    contracts = {c.pk: c for c in member_contracts_of(user)}
    runs = selectors.contract_runs_not_enrolled(user, list(contracts))
    priced = [run.pk for run in runs if not contracts[run.b2b_contract_id].is_free]
    products = selectors.active_products_by_run(priced) if priced else {}
    available = []
    for run in runs:
        contract = contracts[run.b2b_contract_id]
        refusal = admission_refusal(contract=contract, member=True)
        if contract.is_free:
            available.append(AvailableRun(run=run, contract=contract, open=refusal is None))
            continue
        product = products.get(run.pk)
        available.append(
            AvailableRun(
                run=run,
                contract=contract,
                open=refusal is None and product is not None,
                price=product.price if product else None,
                buy_url=selectors.product_cart_url(product.id) if product else None,
            )
        )
    return available


@transaction.atomic
def enroll_in_contract_run(*, user: User, run_id: int) -> CourseRunEnrollment:
    """Enroll a member of a free contract in one of the contract's runs (verified mode).

    Raises EnrollmentRefused when the run is not a live run of such a contract, the learner is
    not attached to it, or the contract is inactive or outside its dates. The same message is
    given whether the run does not exist or is not the learner's, so ids cannot be probed.
    """
    run = CourseRun.objects.filter(pk=run_id, live=True, b2b_contract__isnull=False).first()
    if run is None:
        raise EnrollmentRefused(NOT_AVAILABLE)
    # The contract row stays locked, as attach_learner locks it, so its terms cannot change
    # under us.
    reason = admission_refusal(
        contract_id=run.b2b_contract_id,
        lock=True,
        user=user,
        members_only=True,
        free_only=True,
    )
    if reason is not None:
        urls: tuple[str, ...] = ()
        if reason == AdmissionRefusal.PRICED:
            urls = tuple(selectors.product_cart_url(p.pk) for p in selectors.run_products([run.pk]))
        raise EnrollmentRefused(REFUSALS[reason], reason=reason, product_urls=urls)
    # free_only: the learner pays nothing for a seat the contract covers.
    return enroll_learner(user=user, run=run, mode=enrollment_mode(run=run, price=None))


@dataclass(frozen=True)
class ContractEnrollment:
    enrollment: CourseRunEnrollment
    created: bool  # False: the learner was already enrolled


def enroll_by_courseware_id(*, user: User, courseware_id: str) -> ContractEnrollment:
    """``enroll_in_contract_run`` for the run with this courseware id; says whether the learner
    was enrolled already."""
    run = CourseRun.objects.filter(courseware_id=courseware_id.strip()).first()
    if run is None:
        raise EnrollmentRefused(NOT_AVAILABLE)
    already = CourseRunEnrollment.objects.filter(user=user, run=run, active=True).exists()
    enrollment = enroll_in_contract_run(user=user, run_id=run.pk)
    return ContractEnrollment(enrollment=enrollment, created=not already)
