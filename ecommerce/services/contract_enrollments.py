"""Enrolling from the dashboard in a run of a free contract the learner already belongs to.

This is the only way into a B2B run besides checking out with the run's enrollment code. It is
open only to learners attached to the run's contract, when that contract is free (no price, or
0), active and inside its dates.
"""

from dataclasses import dataclass

from django.db import transaction

from b2b.models import ContractMembership, ContractPage
from courses.models import CourseRun, CourseRunEnrollment
from courses.services.enrollments import enroll_learner, enrollment_mode
from ecommerce import selectors
from ecommerce.exceptions import EnrollmentRefused
from ecommerce.services.pricing import ZERO
from users.models import User

NOT_AVAILABLE = "This course run is not available to you."


@dataclass(frozen=True)
class AvailableRun:
    run: CourseRun
    contract: ContractPage
    open: bool  # the contract is active and inside its dates


def contract_allows_free_enrollment(contract: ContractPage) -> bool:
    return contract.price == ZERO and contract.active and contract.is_open_now()


def available_contract_runs(*, user: User) -> list[AvailableRun]:
    """Runs of the learner's free contracts they are not enrolled in yet (for the dashboard)."""
    contracts = {c.pk: c for c in selectors.free_contracts_of(user)}
    runs = selectors.contract_runs_not_enrolled(user, list(contracts))
    return [
        AvailableRun(
            run=run,
            contract=contracts[run.b2b_contract_id],
            open=contract_allows_free_enrollment(contracts[run.b2b_contract_id]),
        )
        for run in runs
    ]


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
    # Lock the contract as attach_learner does, so its terms cannot change under us.
    contract = ContractPage.objects.select_for_update().get(pk=run.b2b_contract_id)
    if not ContractMembership.objects.filter(user=user, contract=contract).exists():
        raise EnrollmentRefused(NOT_AVAILABLE)
    if contract.price != ZERO:
        raise EnrollmentRefused(
            "This contract has a price: enroll with your enrollment code through the cart."
        )
    if not contract.active:
        raise EnrollmentRefused("Your organization's contract is not active.")
    if not contract.is_open_now():
        raise EnrollmentRefused("Your organization's contract is not open at this date.")
    return enroll_learner(user=user, run=run, mode=enrollment_mode(run=run, price=contract.price))
