"""Renewing a contract: the next contract of the same organization, with the same courseware.

The renewal is a new contract (``create_contract``: the same-name rule, its codes requested),
given the current contract's programs and courses and one new run per course the current
contract has a run of (``add_courseware_set``: runs copied in Open edX, their products), and
linked to the contract it renews (``ContractPage.renews``). With ``carry_learners`` the current
members join it too (``carry_members``), within its cap. One transaction: all or nothing.

Locks, in the lock order: the organization (a new contract under it), the current contract (its
members stay put while they are carried), then the new contract and its code status.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from b2b.models import ContractPage, OrganizationPage
from b2b.services.audit import record
from b2b.services.contracts.terms import UNSET, contract_named, create_contract, get_contract
from b2b.services.courseware import CoursewareResult, add_courseware_set, courseware_set
from b2b.services.locking import ContractLock, lock_contract, lock_organization
from b2b.services.memberships import carry_members

YEAR = re.compile(r"(?<!\d)(19|20)(\d\d)(?!\d)")


@dataclass(frozen=True)
class Renewal:
    contract: ContractPage  # the new contract
    renews: ContractPage
    organization: OrganizationPage
    courseware: CoursewareResult
    learners_carried: int


def renewal_name(*, current: ContractPage, start: date, organization: OrganizationPage) -> str:
    """The renewal's default name, free in the organization (``contract_named``).

    Years in the current name move on by as many years as the start moves ("Acme 2026" starting
    2026-01-01, renewed from 2027-01-01: "Acme 2027"); a name without a year, or renewed within
    the same year, gets the new start's year or date. A name already taken is numbered: "(2)",
    "(3)"...
    """
    title = current.title
    shift = start.year - current.contract_start.year if current.contract_start else 0
    if shift and YEAR.search(title):
        base = YEAR.sub(lambda m: str(int(m.group(0)) + shift), title)
    elif YEAR.search(title):
        base = f"{title} (from {start.isoformat()})"
    else:
        base = f"{title} {start.year}"
    candidate, number = base, 2
    while contract_named(parent=organization, name=candidate) is not None:
        candidate, number = f"{base} ({number})", number + 1
    return candidate


@transaction.atomic
def renew_contract(
    *,
    contract_id: int,
    start: date,
    end: date,
    max_learners: int | None = UNSET,
    price: Decimal | None = UNSET,
    name: str | None = None,
    carry_learners: bool = False,
) -> Renewal:
    """Create the contract that renews ``contract_id`` from ``start`` to ``end``; the cap and
    the price are the current contract's unless given (``None`` removes them).

    Raises ContractNotFound, InvalidContractTerms, DuplicateContract (``name`` is taken),
    NoSourceRun/CoursewareConflict (a run cannot be made), TooManyCodes, LearnersDoNotFit.
    """
    organization = lock_organization(get_contract(contract_id).organization.pk)
    current = lock_contract(contract_id, mode=ContractLock.CHANGE)
    created = create_contract(
        organization=organization,
        name=name
        if name is not None
        else renewal_name(current=current, start=start, organization=organization),
        integration_type=current.integration_type,
        contract_start=start,
        contract_end=end,
        max_learners=current.max_learners if max_learners is UNSET else max_learners,
        enrollment_fixed_price=current.enrollment_fixed_price if price is UNSET else price,
        description=current.description,
        renews=current,
    )
    renewal = created.contract
    programs, courses, run_courses = courseware_set(current)
    courseware = add_courseware_set(
        contract_id=renewal.pk, programs=programs, courses=courses, run_courses=run_courses
    )
    carried = carry_members(source=current, target=renewal) if carry_learners else 0
    record(current, "b2b.contract.renewed", details={"renewal_id": renewal.pk})
    record(
        renewal,
        "b2b.contract.renewal",
        details={"renews_id": current.pk, "learners_carried": carried},
    )
    return Renewal(
        contract=renewal,
        renews=current,
        organization=organization,
        courseware=courseware,
        learners_carried=carried,
    )
