"""Read queries behind the listings. Each runs a fixed number of queries, whatever the number of
contracts, runs or codes.

They return typed read models (frozen dataclasses of plain values), not formatted text: the
commands' rendering layer formats them for tables, JSON and CSV, Wagtail's contract panel shows
them, and an API can serialize them."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.utils import timezone

from b2b.enums import ContractState, IntegrationType
from b2b.models import (
    ContractCodeStatus,
    ContractPage,
    OrganizationPage,
)
from courses.enums import EdxCopyState
from courses.models import CourseRun
from ecommerce.services.contract_codes.reads import (
    ContractCodeCounts,
    active_products_by_run,
    contract_code_counts,
    usable_codes_by_product,
)


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
    state: ContractState  # on the day of the listing (``ContractPage.state_on``)
    renews: int | None  # the id of the contract this one renews


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
    return [organization_row(o) for o in orgs]


def organization_row(org: OrganizationPage) -> OrganizationRow:
    """The row of an organization read with ``with_contract_counts()``."""
    return OrganizationRow(
        id=org.pk,
        name=org.title,
        org_key=org.org_key,
        slug=org.slug,
        sso_organization_id=org.sso_organization_id,
        contracts=org.contract_count,
    )


def contracts_listing(
    org: OrganizationPage | None = None,
    *,
    state: ContractState | None = None,
    day: date | None = None,
) -> list[ContractRow]:
    """The contracts (of ``org``; in ``state`` on ``day``, today by default), by id."""
    day = day or timezone.localdate()
    contracts = ContractPage.objects.all()
    if org is not None:
        contracts = contracts.of_organization(org)
    if state is not None:
        contracts = contracts.in_state(state, day)
    return contract_rows(contracts, day=day)


def contract_rows(
    contracts: "QuerySet[ContractPage]", *, day: date | None = None
) -> list[ContractRow]:
    """The rows of these contracts, by id, with their state on ``day`` (today by default): a
    fixed number of queries, whatever their number."""
    day = day or timezone.localdate()
    rows_of = list(
        contracts.order_by("pk")
        .annotate(learners=Count("memberships"))
        .prefetch_related("organization")
    )
    ids = [c.pk for c in rows_of]
    counts = contract_code_counts(ids)
    statuses = {s.contract_id: s for s in ContractCodeStatus.objects.filter(contract_id__in=ids)}
    rows = []
    for c in rows_of:
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
                state=c.state_on(day),
                renews=c.renews_id,
            )
        )
    return rows


def courseware_listing(contract: ContractPage) -> CoursewareListing:
    runs = list(contract_runs(contract.pk))
    run_rows = contract_run_rows(contract.pk, runs)
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


def contract_runs(contract_id: int) -> "QuerySet[CourseRun]":
    """The contract's runs, read with their course (for ``contract_run_rows``)."""
    return CourseRun.objects.filter(b2b_contract_id=contract_id).select_related("course")


def contract_run_rows(contract_id: int, runs: list[CourseRun]) -> list[RunRow]:
    """The rows of these runs of the contract (read with their course), in the given order: two
    queries, whatever their number."""
    products = active_products_by_run([r.pk for r in runs])
    usable = usable_codes_by_product(
        contract_id=contract_id, product_ids=[p.id for p in products.values()]
    )
    rows = []
    for run in runs:
        product = products.get(run.pk)
        rows.append(
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
    return rows


def attached_courseware(
    contract: ContractPage, *, after: str | None, before: str | None, limit: int
) -> list[AttachedRow]:
    """Up to ``limit`` of the courses and programs recorded on the contract, by readable id,
    after or before a readable id (before: the nearest first): three queries a page."""
    found: list[tuple[str, str, str, int]] = []  # readable id, type, title, pk
    order = "-readable_id" if before is not None else "readable_id"
    for kind, items in (("course", contract.courses.all()), ("program", contract.programs.all())):
        if after is not None:
            items = items.filter(readable_id__gt=after)
        if before is not None:
            items = items.filter(readable_id__lt=before)
        values = items.order_by(order).values_list("readable_id", "title", "pk")[:limit]
        found += [(readable_id, kind, title, pk) for readable_id, title, pk in values]
    found = sorted(found, reverse=before is not None)[:limit]
    with_runs = set(
        CourseRun.objects.filter(
            b2b_contract=contract,
            course_id__in=[pk for _, kind, _, pk in found if kind == "course"],
        ).values_list("course_id", flat=True)
    )
    return [
        AttachedRow(
            type=kind,
            readable_id=readable_id,
            title=title,
            has_run=pk in with_runs if kind == "course" else None,
        )
        for readable_id, kind, title, pk in found
    ]


@dataclass(frozen=True)
class ContractSummary:
    """What the contract's Wagtail edit view shows beside its terms."""

    runs: tuple[RunRow, ...]
    learners: int
    codes: ContractCodeCounts
    code_status: ContractCodeStatus | None
    renews: ContractPage | None  # the contract this one renews
    renewals: tuple[ContractPage, ...]  # the contracts that renew this one, by id


def contract_summary(contract: ContractPage) -> ContractSummary:
    return ContractSummary(
        runs=courseware_listing(contract).runs,
        learners=contract.memberships.count(),
        codes=contract_code_counts([contract.pk]).get(contract.pk, ContractCodeCounts()),
        code_status=ContractCodeStatus.objects.filter(pk=contract.pk).first(),
        renews=ContractPage.objects.filter(pk=contract.renews_id).first()
        if contract.renews_id
        else None,
        renewals=tuple(ContractPage.objects.filter(renews_id=contract.pk).order_by("pk")),
    )


@dataclass(frozen=True)
class ContractCourse:
    """A course of a contract as an invitee reads it: its run's title, key and dates."""

    run_id: int
    title: str
    courseware_id: str
    start: datetime | None
    end: datetime | None


def contract_courses(contract_id: int) -> list[ContractCourse]:
    """The contract's live runs, by title (one query): what its invitation opens, listed by
    the invitation's page and e-mails."""
    runs = CourseRun.objects.filter(b2b_contract_id=contract_id, live=True).order_by("title", "pk")
    return [
        ContractCourse(
            run_id=run.pk,
            title=run.title,
            courseware_id=run.courseware_id,
            start=run.start_date,
            end=run.end_date,
        )
        for run in runs
    ]
