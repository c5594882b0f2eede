"""Read queries behind the listings. Each runs a fixed number of queries, whatever the number of
contracts, runs or codes.

They return typed read models (frozen dataclasses of plain values), not formatted text: the
commands' rendering layer formats them for tables, JSON and CSV, Wagtail's contract panel shows
them, and an API can serialize them.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from wagtail.log_actions import registry as log_actions
from wagtail.models import PageLogEntry

from b2b.enums import ContractState, EmailState, IntegrationType, InvitationState, MembershipSource
from b2b.models import (
    ContractCodeStatus,
    ContractMembership,
    ContractPage,
    Invitation,
    InvitationEmail,
    InviteJob,
    InviteJobRow,
    OrganizationManager,
    OrganizationPage,
    outcome_label,
)
from courses.enums import EdxCopyState
from courses.models import CourseRun, CourseRunEnrollment
from ecommerce.services.contract_codes import (
    ContractCodeCounts,
    active_products_by_run,
    code_product,
    code_redeemed,
    contract_code_counts,
    first_redemption,
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
class HistoryEntry:
    """One change in a page's audit trail (b2b.services.audit), or one of Wagtail's own actions
    (an editor's save, publish, move), which carry no channel: they were made in Wagtail."""

    timestamp: datetime
    action: str
    label: str
    actor: str
    channel: str
    changes: dict
    details: dict


_ENTRY_KEYS = {"channel", "actor", "changes"}


def page_history(page_id: int) -> list[HistoryEntry]:
    """The audit trail of an organization or a contract, oldest first, in one query."""
    entries = PageLogEntry.objects.filter(page_id=page_id).select_related("user")
    rows = []
    for entry in entries.order_by("timestamp", "id"):
        data = entry.data or {}
        user = entry.user
        actor = data.get("actor") or (user.email if user is not None else "system")
        label = (
            log_actions.get_action_label(entry.action)
            if log_actions.action_exists(entry.action)
            else entry.action
        )
        rows.append(
            HistoryEntry(
                timestamp=entry.timestamp,
                action=entry.action,
                label=str(label),
                actor=actor,
                channel=data.get("channel", "wagtail"),
                changes=data.get("changes", {}),
                details={k: v for k, v in data.items() if k not in _ENTRY_KEYS},
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


# The manager pages (/manage/).


@dataclass(frozen=True)
class ManagedContractRow:
    """A contract on its manager's overview: terms, seats, codes and invitations."""

    id: int
    name: str
    active: bool
    start: date | None
    end: date | None
    days_left: int | None  # days until the end day, the end day counting; None: no end
    cap: int | None
    learners: int
    pending_invitations: int
    codes_usable: int
    codes_redeemed: int
    organization_id: int | None = None

    @property
    def seats_left(self) -> int | None:
        if self.cap is None:
            return None
        return max(self.cap - self.learners - self.pending_invitations, 0)

    def _percent(self, count: int) -> int:
        return min(100, round(100 * count / self.cap)) if self.cap else 0

    @property
    def joined_percent(self) -> int:
        return self._percent(self.learners)

    @property
    def invited_percent(self) -> int:
        return min(self._percent(self.pending_invitations), 100 - self.joined_percent)


def open_invitations_of(contract_ids: Iterable[int] | None) -> QuerySet[Invitation]:
    """The open invitations of these contracts (of every contract for None): stored open, and
    their code not redeemed yet (a learner who used it is a member now). The one definition of
    "open": the seats an invitation holds, what a manager may remind or revoke, the overview's
    pending count, the reminders due."""
    found = Invitation.objects.filter(state=InvitationState.OPEN).filter(~code_redeemed("code_id"))
    return found if contract_ids is None else found.filter(contract_id__in=list(contract_ids))


def invitations_in_state(contract_id: int, state: InvitationState | None) -> QuerySet[Invitation]:
    """The contract's invitations, all of them or those whose state (as ``invitation_rows``
    reads it: "open" is ``open_invitations_of``) is ``state``."""
    found = Invitation.objects.filter(contract_id=contract_id)
    if state is None:
        return found
    still_open = open_invitations_of([contract_id]).values("pk")
    if state == InvitationState.OPEN:
        return found.filter(pk__in=still_open)
    if state == InvitationState.REDEEMED:
        return found.exclude(state=InvitationState.REVOKED).exclude(pk__in=still_open)
    return found.filter(state=InvitationState.REVOKED)


def _open_invitation_counts(contract_ids: list[int]) -> dict[int, int]:
    rows = (
        open_invitations_of(contract_ids).values("contract_id").annotate(n=Count("pk")).order_by()
    )
    return {row["contract_id"]: row["n"] for row in rows}


def managed_contract_rows_of(contract_ids: list[int]) -> list[ManagedContractRow]:
    """The overview rows of these contracts, by title: a fixed number of queries."""
    rows = contract_rows(ContractPage.objects.filter(pk__in=contract_ids))
    pending = _open_invitation_counts([r.id for r in rows])
    today = timezone.localdate()
    return sorted(
        (
            ManagedContractRow(
                id=r.id,
                name=r.name,
                active=r.active,
                start=r.start,
                end=r.end,
                days_left=(r.end - today).days + 1 if r.end else None,
                cap=r.max_learners,
                learners=r.learners,
                pending_invitations=pending.get(r.id, 0),
                codes_usable=r.codes.usable,
                codes_redeemed=r.codes.redeemed,
                organization_id=r.organization_id,
            )
            for r in rows
        ),
        key=lambda row: (row.name.lower(), row.id),
    )


def managed_contract_rows(org: OrganizationPage) -> list[ManagedContractRow]:
    ids = list(ContractPage.objects.of_organization(org).values_list("pk", flat=True))
    return managed_contract_rows_of(ids)


@dataclass(frozen=True)
class InvitationPage:
    rows: tuple["InvitationRow", ...]
    total: int
    page: int
    pages: int


def contract_invitations(contract_id: int, *, page: int = 1, per_page: int = 50) -> InvitationPage:
    """One page of the contract's invitations, newest first (three queries)."""
    found = Invitation.objects.filter(contract_id=contract_id).order_by("-created_on", "-pk")
    total = found.count()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    ids = list(found.values_list("pk", flat=True)[(page - 1) * per_page : page * per_page])
    rows = invitation_rows(contract_id, invitation_ids=ids) if ids else []
    return InvitationPage(rows=tuple(rows), total=total, page=page, pages=pages)


@dataclass(frozen=True)
class OutcomeCount:
    outcome: str
    label: str
    count: int


def invite_job_summary(job: InviteJob) -> list[OutcomeCount]:
    """How many rows of the job ended in each result, most first (one query)."""
    counts = job.row_set.values("outcome").annotate(n=Count("pk")).order_by("-n", "outcome")
    return [
        OutcomeCount(outcome=c["outcome"], label=outcome_label(c["outcome"]), count=c["n"])
        for c in counts
    ]


def invite_job_summaries(job_ids: list[int]) -> dict[int, list[OutcomeCount]]:
    """``invite_job_summary`` of several jobs, by job id, in one query (the API's job list)."""
    counts = (
        InviteJobRow.objects.filter(job_id__in=job_ids)
        .values("job_id", "outcome")
        .annotate(n=Count("pk"))
        .order_by("job_id", "-n", "outcome")
    )
    found: dict[int, list[OutcomeCount]] = {job_id: [] for job_id in job_ids}
    for c in counts:
        found[c["job_id"]].append(
            OutcomeCount(outcome=c["outcome"], label=outcome_label(c["outcome"]), count=c["n"])
        )
    return found


# Managers and invitations (the manager pages and API, b2b_manager, the admin and Wagtail).


@dataclass(frozen=True)
class ManagerRow:
    """A manager of an organization."""

    user_id: int
    email: str
    name: str
    organization_id: int
    organization: str
    granted_by: str | None
    granted_on: datetime


def manager_emails(organization_id: int) -> list[str]:
    """The e-mail addresses of an organization's managers, sorted; one query."""
    return sorted(
        OrganizationManager.objects.filter(organization_id=organization_id).values_list(
            "user__email", flat=True
        )
    )


def manager_rows(org: OrganizationPage | None = None) -> list[ManagerRow]:
    """The managers of ``org`` (every organization's when None), by organization then e-mail;
    one query."""
    roles = OrganizationManager.objects.select_related("user", "organization", "granted_by")
    if org is not None:
        roles = roles.filter(organization=org)
    return [
        ManagerRow(
            user_id=role.user_id,
            email=role.user.email,
            name=role.user.get_full_name() if hasattr(role.user, "get_full_name") else "",
            organization_id=role.organization_id,
            organization=role.organization.title,
            granted_by=role.granted_by.email if role.granted_by else None,
            granted_on=role.granted_on,
        )
        for role in roles.order_by("organization__title", "user__email")
    ]


@dataclass(frozen=True)
class InvitationRow:
    """An invitation as managers see it. ``state`` is "redeemed" as soon as its code is
    redeemed (by ``redeemed_by``, whatever address they used), before the periodic task stores
    it; ``email_state`` is the state of the last message sent about it."""

    id: int
    contract_id: int
    email: str
    name: str
    state: InvitationState
    code: str | None
    invited_by: str | None
    created_on: datetime
    reminders_sent: int
    last_reminded_on: datetime | None
    last_emailed_on: datetime | None
    revoked_on: datetime | None
    redeemed_by: str | None
    redeemed_on: datetime | None
    email_state: str | None
    email_error: str

    @property
    def email_state_label(self) -> str:
        """The last message's state in words ("Sent", "Retrying", ...); "" before any."""
        return str(EmailState(self.email_state).label) if self.email_state else ""


def _effective_state(stored: str, redeemer_email: str | None) -> InvitationState:
    """The state as ``open_invitations_of`` reads it, for a row annotated with its code's first
    redemption: a stored "open" whose code was redeemed is "redeemed"."""
    if stored == InvitationState.OPEN and redeemer_email is not None:
        return InvitationState.REDEEMED
    return InvitationState(stored)


def invitation_rows(
    contract_id: int, *, invitation_ids: list[int] | None = None
) -> list[InvitationRow]:
    """The contract's invitations, newest first, with their redemption and last e-mail (one
    query)."""
    last_email = InvitationEmail.objects.filter(invitation_id=OuterRef("pk")).order_by("-pk")
    found = Invitation.objects.filter(contract_id=contract_id)
    if invitation_ids is not None:
        found = found.filter(pk__in=invitation_ids)
    redemption = first_redemption("code_id")
    found = found.annotate(
        redeemer_email=redemption["redeemer_email"],
        redeemed_at=redemption["redeemed_at"],
        code_text=F("code__discount_code"),
        inviter=F("invited_by__email"),
        email_state=Subquery(last_email.values("state")[:1]),
        email_error=Subquery(last_email.values("last_error")[:1]),
    ).order_by("-created_on", "-pk")
    return [
        InvitationRow(
            id=i.pk,
            contract_id=i.contract_id,
            email=i.email,
            name=i.name,
            state=_effective_state(i.state, i.redeemer_email),
            code=i.code_text,
            invited_by=i.inviter,
            created_on=i.created_on,
            reminders_sent=i.reminders_sent,
            last_reminded_on=i.last_reminded_on,
            last_emailed_on=i.last_emailed_on,
            revoked_on=i.revoked_on,
            redeemed_by=i.redeemer_email,
            redeemed_on=i.redeemed_at,
            email_state=i.email_state,
            email_error=i.email_error or "",
        )
        for i in found
    ]


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


@dataclass(frozen=True)
class InvitationTarget:
    """Where an invitation's link leads: its state, the contract it opens (every course of it,
    what the learner pays), and for an open one the cart address with the code."""

    state: InvitationState
    organization: str
    contract: str
    product_id: int | None
    code: str | None
    contract_id: int = 0
    price: Decimal | None = None  # per course; None for a free contract
    courses: tuple[ContractCourse, ...] = ()
    first_course: str = ""  # the course the code is for: the one the accept button buys

    @property
    def free(self) -> bool:
        return self.price is None


def invitation_target(token: str) -> InvitationTarget | None:
    """The invitation whose link carries ``token``, or None; with the contract's courses
    (four queries)."""
    redemption = first_redemption("code_id")
    invitation = (
        Invitation.objects.filter(token=token)
        .select_related("contract")
        .annotate(
            redeemer_email=redemption["redeemer_email"],
            code_text=F("code__discount_code"),
            code_active=F("code__is_active"),
            product_id=code_product("code_id"),
        )
        .first()
    )
    if invitation is None:
        return None
    state = _effective_state(invitation.state, invitation.redeemer_email)
    if state == InvitationState.OPEN and not invitation.code_active:
        state = InvitationState.REVOKED  # its code was withdrawn (the contract's terms changed)
    contract = invitation.contract
    courses = contract_courses(contract.pk)
    products = active_products_by_run([course.run_id for course in courses])
    first = next(
        (
            c.title
            for c in courses
            if (p := products.get(c.run_id)) and p.id == invitation.product_id
        ),
        "",
    )
    return InvitationTarget(
        state=state,
        organization=contract.organization.title,
        contract=contract.title,
        product_id=invitation.product_id,
        code=invitation.code_text,
        contract_id=contract.pk,
        price=None if contract.is_free else contract.price,
        courses=tuple(courses),
        first_course=first,
    )


def is_member(user: User, contract_id: int) -> bool:
    """Whether ``user`` belongs to the contract (one query)."""
    return ContractMembership.objects.filter(user=user, contract_id=contract_id).exists()
