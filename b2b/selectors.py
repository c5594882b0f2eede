"""Read queries behind the listings. Each runs a fixed number of queries, whatever the number of
contracts, runs or codes.

They return typed read models (frozen dataclasses of plain values), not formatted text: the
commands' rendering layer formats them for tables, JSON and CSV, Wagtail's contract panel shows
them, and an API can serialize them.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef

from b2b.enums import IntegrationType
from b2b.models import ContractCodeStatus, ContractMembership, ContractPage, OrganizationPage
from courses.enums import EdxCopyState
from courses.models import CourseRun
from ecommerce.selectors import (
    ContractCodeCounts,
    active_products_by_run,
    contract_code_counts,
    usable_codes_by_product,
)
from users.models import User


@dataclass(frozen=True)
class OrganizationRow:
    id: int
    name: str
    org_key: str
    slug: str
    sso_organization_id: str | None
    contracts: int


@dataclass(frozen=True)
class ContractRow:
    id: int
    name: str
    slug: str
    organization: str | None
    organization_id: int | None
    integration_type: IntegrationType
    start: date | None
    end: date | None
    active: bool
    max_learners: int | None  # None: no cap
    price: Decimal | None  # None: free
    learners: int
    codes: ContractCodeCounts
    codes_pending: bool  # a code reconciliation was requested and has not run yet
    codes_pending_since: datetime | None
    codes_error: str | None  # why the last reconciliation failed; None once one succeeds


@dataclass(frozen=True)
class RunRow:
    courseware_id: str
    course: str  # the course's readable id
    title: str
    start: datetime | None
    end: datetime | None
    product_id: int | None  # the run's active product, if it has one
    price: Decimal | None
    usable_codes: int
    edx_copy: EdxCopyState
    edx_error: str | None  # the last error of a failed copy, None otherwise


@dataclass(frozen=True)
class AttachedRow:
    """A course or program recorded on the contract."""

    type: str  # "course" or "program"
    readable_id: str
    title: str
    has_run: bool | None  # whether the contract has a run of the course; None for programs


@dataclass(frozen=True)
class CoursewareListing:
    runs: tuple[RunRow, ...]
    attached: tuple[AttachedRow, ...]


def organizations_listing(org: OrganizationPage | None = None) -> list[OrganizationRow]:
    orgs = OrganizationPage.objects.with_contract_counts().order_by("pk")
    if org is not None:
        orgs = orgs.filter(pk=org.pk)
    return [
        OrganizationRow(
            id=o.pk,
            name=o.title,
            org_key=o.org_key,
            slug=o.slug,
            sso_organization_id=o.sso_organization_id,
            contracts=o.contract_count,
        )
        for o in orgs
    ]


def contracts_listing(org: OrganizationPage | None = None) -> list[ContractRow]:
    contracts = (
        ContractPage.objects.order_by("pk")
        .annotate(learners=Count("memberships"))
        .prefetch_related("organization")
    )
    if org is not None:
        contracts = contracts.of_organization(org)
    contracts = list(contracts)
    ids = [c.pk for c in contracts]
    counts = contract_code_counts(ids)
    statuses = {s.contract_id: s for s in ContractCodeStatus.objects.filter(contract_id__in=ids)}
    rows = []
    for c in contracts:
        organization = c.organization
        status = statuses.get(c.pk)
        pending = status is not None and status.is_pending
        rows.append(
            ContractRow(
                id=c.pk,
                name=c.title,
                slug=c.slug,
                organization=organization.title if organization else None,
                organization_id=organization.pk if organization else None,
                integration_type=IntegrationType(c.integration_type),
                start=c.contract_start,
                end=c.contract_end,
                active=c.active,
                max_learners=c.max_learners,
                price=c.enrollment_fixed_price,
                learners=c.learners,
                codes=counts.get(c.pk, ContractCodeCounts()),
                codes_pending=pending,
                codes_pending_since=status.pending_since if pending and status else None,
                codes_error=(status.last_error or None) if status is not None else None,
            )
        )
    return rows


def courseware_listing(contract: ContractPage) -> CoursewareListing:
    runs = list(CourseRun.objects.filter(b2b_contract=contract).select_related("course"))
    products = active_products_by_run([r.pk for r in runs])
    usable = usable_codes_by_product(
        contract_id=contract.pk, product_ids=[p.id for p in products.values()]
    )
    run_rows = []
    for run in runs:
        product = products.get(run.pk)
        run_rows.append(
            RunRow(
                courseware_id=run.courseware_id,
                course=run.course.readable_id,
                title=run.title,
                start=run.start_date,
                end=run.end_date,
                product_id=product.id if product else None,
                price=product.price if product else None,
                usable_codes=usable.get(product.id, 0) if product else 0,
                edx_copy=EdxCopyState(run.edx_copy_state),
                # Only a failed copy's error is news; "not configured" says what it is.
                edx_error=(
                    run.edx_copy_error or None
                    if run.edx_copy_state == EdxCopyState.FAILED
                    else None
                ),
            )
        )
    courses_with_runs = {run.course_id for run in runs}
    attached = [
        AttachedRow(type="program", readable_id=p.readable_id, title=p.title, has_run=None)
        for p in contract.programs.order_by("readable_id")
    ] + [
        AttachedRow(
            type="course",
            readable_id=c.readable_id,
            title=c.title,
            has_run=c.pk in courses_with_runs,
        )
        for c in contract.courses.order_by("readable_id")
    ]
    return CoursewareListing(runs=tuple(run_rows), attached=tuple(attached))


def free_contracts_of(user: User) -> list[ContractPage]:
    """Contracts the learner belongs to that give free enrollment (no price, or 0), by title;
    the learner's dashboard offers their runs."""
    member = ContractMembership.objects.filter(user=user, contract_id=OuterRef("pk"))
    return list(ContractPage.objects.filter(Exists(member)).free().order_by("title", "pk"))
