"""Reads of a contract's learners: its members, their rows and pages, the contracts a learner
belongs to, and what each learner sees of them."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from b2b.enums import MembershipSource
from b2b.models import (
    ContractMembership,
    ContractPage,
)
from courses.models import CourseRun, CourseRunEnrollment
from ecommerce.services.contract_codes.reads import active_products_by_run
from users.models import User


def member_contracts_of(user: User) -> list[ContractPage]:
    """Every contract the learner belongs to, free or priced, by title (one query); the
    dashboard offers their runs: a free contract's to enroll in, a priced one's to buy."""
    member = ContractMembership.objects.filter(user=user, contract_id=OuterRef("pk"))
    return list(ContractPage.objects.filter(Exists(member)).order_by("title", "pk"))


def member_contracts_among(user: User, contract_ids: Iterable[int]) -> list[ContractPage]:
    """The contracts among ``contract_ids`` the learner belongs to, by id (one query)."""
    member = ContractMembership.objects.filter(user=user, contract_id=OuterRef("pk"))
    return list(
        ContractPage.objects.filter(Exists(member), pk__in=list(contract_ids)).order_by("pk")
    )


@dataclass(frozen=True)
class LearnerRun:
    courseware_id: str
    title: str
    start: datetime | None
    end: datetime | None
    enrolled: bool
    product_id: int | None  # the run's active product (a priced contract's runs are bought)


@dataclass(frozen=True)
class LearnerContract:
    """A contract as its learner sees it: the organization, the terms that matter to them, and
    the contract's live runs."""

    id: int
    name: str
    organization: str | None
    organization_id: int | None
    active: bool
    start: date | None
    end: date | None
    free: bool
    joined_on: datetime
    runs: tuple[LearnerRun, ...]


def learner_contracts(user: User, contract_ids: list[int]) -> list[LearnerContract]:
    """The learner's memberships among ``contract_ids``, by contract id, with each contract's
    live runs (a fixed number of queries)."""
    memberships = list(
        ContractMembership.objects.filter(user=user, contract_id__in=contract_ids).order_by(
            "contract_id"
        )
    )
    contracts = {
        c.pk: c
        for c in ContractPage.objects.filter(
            pk__in=[m.contract_id for m in memberships]
        ).prefetch_related("organization")
    }
    runs = list(
        CourseRun.objects.filter(b2b_contract_id__in=contract_ids, live=True).order_by("pk")
    )
    enrolled = set(
        user.enrollments.filter(run__in=runs, active=True).values_list("run_id", flat=True)
    )
    products = active_products_by_run([run.pk for run in runs])
    by_contract: dict[int, list[LearnerRun]] = {}
    for run in runs:
        product = products.get(run.pk)
        by_contract.setdefault(run.b2b_contract_id or 0, []).append(
            LearnerRun(
                courseware_id=run.courseware_id,
                title=run.title,
                start=run.start_date,
                end=run.end_date,
                enrolled=run.pk in enrolled,
                product_id=product.id if product else None,
            )
        )
    rows = []
    for m in memberships:
        contract = contracts[m.contract_id]
        organization = contract.organization
        rows.append(
            LearnerContract(
                id=contract.pk,
                name=contract.title,
                organization=organization.title if organization else None,
                organization_id=organization.pk if organization else None,
                active=contract.active,
                start=contract.contract_start,
                end=contract.contract_end,
                free=contract.is_free,
                joined_on=m.created_on,
                runs=tuple(by_contract.get(contract.pk, ())),
            )
        )
    return rows


@dataclass(frozen=True)
class LearnerRow:
    """A member of a contract, as the organization's manager sees them."""

    user_id: int
    name: str
    email: str
    joined_on: datetime
    source: MembershipSource
    runs: tuple[str, ...]  # the courseware ids of the contract's runs they are enrolled in


@dataclass(frozen=True)
class LearnerPage:
    rows: tuple[LearnerRow, ...]
    total: int  # members matching the search
    page: int  # 1-based, within 1..pages
    pages: int


def _members(contract_id: int, search: str) -> "QuerySet[ContractMembership]":
    members = ContractMembership.objects.filter(contract_id=contract_id)
    search = search.strip()
    if search:
        members = members.filter(Q(user__email__icontains=search) | Q(user__name__icontains=search))
    return members.select_related("user").order_by("-created_on", "-pk")


def _learner_rows(contract_id: int, members: list[ContractMembership]) -> list[LearnerRow]:
    """Rows of these memberships with their runs: one query, whatever their number."""
    enrolled: dict[int, list[str]] = {}
    for user_id, courseware_id in (
        CourseRunEnrollment.objects.filter(
            run__b2b_contract_id=contract_id,
            active=True,
            user_id__in=[m.user_id for m in members],
        )
        .order_by("run__courseware_id")
        .values_list("user_id", "run__courseware_id")
    ):
        enrolled.setdefault(user_id, []).append(courseware_id)
    return [
        LearnerRow(
            user_id=m.user_id,
            name=m.user.name,
            email=m.user.email,
            joined_on=m.created_on,
            source=MembershipSource(m.source),
            runs=tuple(enrolled.get(m.user_id, ())),
        )
        for m in members
    ]


def contract_learners(
    contract_id: int, *, search: str = "", page: int = 1, per_page: int = 50
) -> LearnerPage:
    """One page of the contract's members, newest first, whose e-mail or name contains
    ``search`` (any case): three queries, whatever the number of members."""
    members = _members(contract_id, search)
    total = members.count()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    chosen = list(members[(page - 1) * per_page : page * per_page])
    return LearnerPage(
        rows=tuple(_learner_rows(contract_id, chosen)),
        total=total,
        page=page,
        pages=pages,
    )


def contract_members(contract_id: int, *, search: str = "") -> "QuerySet[ContractMembership]":
    """The contract's memberships whose learner's e-mail or name contains ``search`` (any
    case), with their users; a caller pages it (the REST API by id) and reads the rows with
    ``learner_rows``."""
    return _members(contract_id, search)


def learner_rows(contract_id: int, members: list[ContractMembership]) -> list[LearnerRow]:
    """The rows of these memberships, their enrolled runs included (one query)."""
    return _learner_rows(contract_id, members)


def iter_contract_learners(contract_id: int, *, chunk_size: int = 2000) -> Iterator[LearnerRow]:
    """Every member of the contract, oldest first, read in chunks of ``chunk_size`` (two queries
    a chunk), for the learners CSV."""
    after = 0
    while True:
        chunk = list(
            ContractMembership.objects.filter(contract_id=contract_id, pk__gt=after)
            .select_related("user")
            .order_by("pk")[:chunk_size]
        )
        if not chunk:
            return
        yield from _learner_rows(contract_id, chunk)
        after = chunk[-1].pk


def is_member(user: User, contract_id: int) -> bool:
    """Whether ``user`` belongs to the contract (one query)."""
    return ContractMembership.objects.filter(user=user, contract_id=contract_id).exists()
