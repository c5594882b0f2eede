"""Reads of what a contract's learners did after they joined: the funnel (invited, joined,
enrolled, started, passed, certified), the completion rate and the needs-attention count, and
the per-learner rows with their filters, search and sort.

Every figure counts through the rules of ``b2b.models.progress`` (``started_q``,
``completed_q``, ``needs_attention_q``), with one ``AttentionCutoffs`` per request, so that the
funnel, the table's filter, the CSV, the API and the digest agree. Funnel stages count learners
(an Open edX username, once whatever the number of runs); the needs-attention count and filter
count rows (a learner in one run).

What a manager sees follows the contract's ``progress_visibility``: per learner, or aggregates
only, where a count of fewer than ``B2B_PROGRESS_MIN_GROUP`` learners is not shown (``None``,
said "fewer than 5"), and there are no rows. Staff always see everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)

from b2b.enums import InvitationState, ProgressSyncState, ProgressVisibility
from b2b.models import (
    AttentionCutoffs,
    ContractMembership,
    ContractPage,
    Invitation,
    LearnerProgress,
    OrganizationManager,
    OrganizationPage,
    ProgressDigest,
    certified_q,
    completed_q,
    needs_attention_q,
    started_q,
)
from courses.models import CourseRun
from users.models import User

# The table's filters ("show"), in the order the page offers them.
FILTERS: dict[str, str] = {
    "not-started": "Not started",
    "needs-attention": "Needs attention",
    "passed": "Passed",
    "certified": "Certified",
}

# The table's sort keys: a name in the query string, and the fields it orders by.
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("user__name", "edx_username"),
    "email": ("user__email", "edx_email"),
    "run": ("run__courseware_id", "edx_username"),
    "enrolled": ("enrolled_on",),
    "grade": ("grade_percent",),
    "passed": ("first_passed_on",),
    "certificate": ("cert_status", "cert_created_on"),
    "changed": ("changed_on",),
}
DEFAULT_SORT = "name"

STAGES: tuple[tuple[str, str], ...] = (
    ("invited", "Invited"),
    ("joined", "Joined"),
    ("enrolled", "Enrolled"),
    ("started", "Started"),
    ("passed", "Passed"),
    ("certified", "Certified"),
)


def min_group() -> int:
    return int(settings.B2B_PROGRESS_MIN_GROUP)


def shows_learners(contract: ContractPage, *, staff: bool = False) -> bool:
    """Whether the viewer may see the contract's learners one by one."""
    return staff or contract.progress_visibility != ProgressVisibility.AGGREGATES


@dataclass(frozen=True)
class FunnelStage:
    key: str
    label: str
    count: int | None  # None: hidden (fewer than B2B_PROGRESS_MIN_GROUP, aggregates only)
    share: int | None  # percent of the seats (of the joined when uncapped); None when hidden

    @property
    def text(self) -> str:
        if self.count is None:
            return f"{self.label}: fewer than {min_group()}"
        share = f" ({self.share}%)" if self.share is not None else ""
        return f"{self.label}: {self.count}{share}"


@dataclass(frozen=True)
class ProgressSummary:
    """A contract's outcome figures, as the viewer may see them."""

    contract_id: int
    seats: int | None  # the cap; None when uncapped
    stages: tuple[FunnelStage, ...]
    completion_rate: int | None  # percent of the enrolled who passed or are certified
    needs_attention: int | None
    unmapped: int | None  # Open edX learners we could not match to ours (staff only)
    as_of: datetime | None  # the latest Open edX answer behind these figures
    per_learner: bool  # the viewer may see the rows
    cutoffs: AttentionCutoffs = field(repr=False)

    def stage(self, key: str) -> FunnelStage:
        return next(s for s in self.stages if s.key == key)

    @property
    def synced(self) -> bool:
        return self.as_of is not None

    @property
    def min_group(self) -> int:
        """The smallest count shown of an aggregates-only contract ("fewer than 5")."""
        return min_group()

    @property
    def text(self) -> str:
        """The funnel in one sentence: the chart's text equivalent."""
        return "; ".join(s.text for s in self.stages) + "."


@dataclass
class _Counts:
    invited: int = 0
    joined: int = 0
    enrolled: int = 0
    started: int = 0
    passed: int = 0
    certified: int = 0
    completed: int = 0
    needs_attention: int = 0
    unmapped: int = 0
    as_of: datetime | None = None


def _progress_counts(contract_ids: list[int], cutoffs: AttentionCutoffs) -> dict[int, _Counts]:
    """The figures of these contracts: three queries, whatever their number or size."""
    counts = {cid: _Counts() for cid in contract_ids}

    def learners(condition: Q) -> Count:
        # COUNT(DISTINCT CASE ...): SQLite has no DISTINCT aggregate with a FILTER clause. The
        # annotations are named n_* so that the conditions' fields (passed...) are not shadowed.
        return Count(Case(When(condition, then=F("edx_username"))), distinct=True)

    for row in (
        LearnerProgress.objects.filter(contract_id__in=contract_ids)
        .values("contract_id")
        .annotate(
            n_enrolled=learners(Q(active=True)),
            n_started=learners(started_q()),
            n_passed=learners(Q(passed=True)),
            n_certified=learners(certified_q()),
            n_completed=learners(completed_q()),
            flagged=Count("pk", filter=needs_attention_q(cutoffs)),
            n_unmapped=learners(Q(user__isnull=True)),
            as_of=Max("as_of"),
        )
        .order_by()
    ):
        c = counts[row["contract_id"]]
        for name in (
            "enrolled",
            "started",
            "passed",
            "certified",
            "completed",
            "unmapped",
        ):
            setattr(c, name, row[f"n_{name}"])  # type: ignore[literal-required]
        c.needs_attention = row["flagged"]
        c.as_of = row["as_of"]
    for member_row in (
        ContractMembership.objects.filter(contract_id__in=contract_ids)
        .values("contract_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[member_row["contract_id"]].joined = member_row["n"]
    for invited_row in (
        Invitation.objects.filter(contract_id__in=contract_ids)
        .exclude(state=InvitationState.REVOKED)
        .values("contract_id")
        .annotate(n=Count("email", distinct=True))
        .order_by()
    ):
        counts[invited_row["contract_id"]].invited = invited_row["n"]
    for c in counts.values():
        # A member who joined by code or single sign-on was never invited: the funnel starts
        # with everyone who was asked or came.
        c.invited = max(c.invited, c.joined)
    return counts


def _shown(count: int, *, aggregates: bool) -> int | None:
    return None if aggregates and 0 < count < min_group() else count


def _summary(
    contract: ContractPage, counts: _Counts, cutoffs: AttentionCutoffs, *, staff: bool
) -> ProgressSummary:
    per_learner = shows_learners(contract, staff=staff)
    aggregates = not per_learner
    base = contract.max_learners or counts.joined
    stages = []
    for key, label in STAGES:
        count = _shown(getattr(counts, key), aggregates=aggregates)
        share = None if count is None or not base else min(100, round(100 * count / base))
        stages.append(FunnelStage(key=key, label=label, count=count, share=share))
    # The rate is hidden with the counts behind it: 2 of 6 shown as 33% would tell the 2.
    enrolled = _shown(counts.enrolled, aggregates=aggregates)
    completed = _shown(counts.completed, aggregates=aggregates)
    completion = (
        None
        if enrolled is None or completed is None or counts.enrolled == 0
        else round(100 * counts.completed / counts.enrolled)
    )
    return ProgressSummary(
        contract_id=contract.pk,
        seats=contract.max_learners,
        stages=tuple(stages),
        completion_rate=completion,
        needs_attention=_shown(counts.needs_attention, aggregates=aggregates),
        unmapped=counts.unmapped if staff else None,
        as_of=counts.as_of,
        per_learner=per_learner,
        cutoffs=cutoffs,
    )


def progress_summary(
    contract: ContractPage, cutoffs: AttentionCutoffs, *, staff: bool = False
) -> ProgressSummary:
    """The contract's funnel, completion rate and needs-attention count (three queries)."""
    counts = _progress_counts([contract.pk], cutoffs)[contract.pk]
    return _summary(contract, counts, cutoffs, staff=staff)


def progress_summaries(
    contracts: Iterable[ContractPage], cutoffs: AttentionCutoffs, *, staff: bool = False
) -> dict[int, ProgressSummary]:
    """The summaries of these contracts, by id (three queries, whatever their number): the
    organization overview's completion rates and needs-attention counts."""
    contracts = list(contracts)
    counts = _progress_counts([c.pk for c in contracts], cutoffs)
    return {c.pk: _summary(c, counts[c.pk], cutoffs, staff=staff) for c in contracts}


def progress_rows(
    contract_id: int,
    cutoffs: AttentionCutoffs,
    *,
    show: str = "",
    search: str = "",
    sort: str = "",
) -> QuerySet[LearnerProgress]:
    """The contract's rows, each with ``attention`` (needs attention at ``cutoffs``), its user
    and run, filtered by ``show`` (a key of ``FILTERS``; anything else: all), whose name,
    e-mail or Open edX username contains ``search``, ordered by ``sort`` (a key of ``SORTS``,
    ``-`` first for descending; anything else: by name). The caller pages it.

    It does not check the contract's visibility: callers ask ``shows_learners`` first.
    """
    rows = LearnerProgress.objects.filter(contract_id=contract_id)
    if show == "not-started":
        rows = rows.not_started()
    elif show == "needs-attention":
        rows = rows.needing_attention(cutoffs)
    elif show == "passed":
        rows = rows.passed()
    elif show == "certified":
        rows = rows.certified()
    search = search.strip()
    if search:
        rows = rows.filter(
            Q(user__name__icontains=search)
            | Q(user__email__icontains=search)
            | Q(edx_username__icontains=search)
            | Q(edx_email__icontains=search)
        )
    descending = sort.startswith("-")
    fields = SORTS.get(sort.removeprefix("-"), SORTS[DEFAULT_SORT])
    order = [f"-{f}" if descending else f for f in fields]
    return (
        rows.select_related("user", "run")
        .annotate(
            attention=ExpressionWrapper(
                Case(
                    When(needs_attention_q(cutoffs), then=Value(True)),
                    default=Value(False),
                ),
                output_field=BooleanField(),
            )
        )
        .order_by(*order, "pk")
    )


def rows_changed_since(
    organization: OrganizationPage, since: datetime | None, *, until: datetime | None = None
) -> QuerySet[LearnerProgress]:
    """The organization's rows (of its contracts that show learners one by one) changed after
    ``since`` (all when None) and, with ``until``, not after it, oldest change first: the API's
    feed for HR systems."""
    contracts = ContractPage.objects.of_organization(organization).exclude(
        progress_visibility=ProgressVisibility.AGGREGATES
    )
    rows = LearnerProgress.objects.filter(contract__in=contracts)
    if since is not None:
        rows = rows.filter(changed_on__gt=since)
    if until is not None:
        rows = rows.filter(changed_on__lte=until)
    return rows.select_related("user", "run", "contract").order_by("changed_on", "pk")


def organization_progress(
    organization: OrganizationPage, cutoffs: AttentionCutoffs
) -> dict[int, ProgressSummary]:
    """The summaries of the organization's contracts, by id, as its managers see them (four
    queries, whatever the number of contracts): the overview's completion rates and
    needs-attention counts."""
    return progress_summaries(ContractPage.objects.of_organization(organization), cutoffs)


# The learners' table, as the manager pages and the CSV show it.


def certificate_link(url: str) -> str:
    """The certificate's download address when it is a web address (http or https, with a
    host), else "": anything else (javascript:, data:, a bare path) is never made a link."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def grade_shown(percent: Decimal | None) -> int | None:
    """A grade (0 to 1) as a whole percent."""
    return None if percent is None else round(percent * 100)


@dataclass(frozen=True)
class ProgressLine:
    """A learner's row in one run, as the manager sees it. An Open edX learner we could not
    match to one of ours (``unmapped``) is shown by their Open edX username and e-mail."""

    row: LearnerProgress
    name: str
    email: str
    unmapped: bool
    grade: int | None  # whole percent; None when not started
    certificate_link: str  # "" unless a web address
    attention: bool


def progress_line(row: LearnerProgress, cutoffs: AttentionCutoffs) -> ProgressLine:
    user = row.user
    attention = getattr(row, "attention", None)
    return ProgressLine(
        row=row,
        name=(user.name or user.email) if user is not None else row.edx_username,
        email=user.email if user is not None else row.edx_email,
        unmapped=user is None,
        grade=grade_shown(row.grade_percent) if row.is_started else None,
        certificate_link=certificate_link(row.cert_url),
        attention=row.needs_attention(cutoffs) if attention is None else bool(attention),
    )


@dataclass(frozen=True)
class ProgressPage:
    lines: tuple[ProgressLine, ...]
    total: int  # rows matching the filter and search
    page: int  # 1-based, within 1..pages
    pages: int
    flagged_on_page: int  # lines needing attention on this page (the nudge checkboxes)


def progress_page(
    contract_id: int,
    cutoffs: AttentionCutoffs,
    *,
    show: str = "",
    search: str = "",
    sort: str = "",
    page: int = 1,
    per_page: int = 50,
) -> ProgressPage:
    """One page of ``progress_rows`` (two queries, whatever the page size)."""
    rows = progress_rows(contract_id, cutoffs, show=show, search=search, sort=sort)
    total = rows.count()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    lines = tuple(
        progress_line(row, cutoffs) for row in rows[(page - 1) * per_page : page * per_page]
    )
    return ProgressPage(
        lines=lines,
        total=total,
        page=page,
        pages=pages,
        flagged_on_page=sum(1 for line in lines if line.attention),
    )


def filter_counts(contract_id: int, cutoffs: AttentionCutoffs) -> dict[str, int]:
    """The number of rows each filter of ``FILTERS`` shows, and "all" (one query). The same
    rules as ``progress_rows``' filters, so a count and its filter agree."""
    figures = LearnerProgress.objects.filter(contract_id=contract_id).aggregate(
        all=Count("pk"),
        not_started=Count("pk", filter=Q(active=True) & ~started_q()),
        needs_attention=Count("pk", filter=needs_attention_q(cutoffs)),
        passed=Count("pk", filter=Q(passed=True)),
        certified=Count("pk", filter=certified_q()),
    )
    return {key.replace("_", "-"): value or 0 for key, value in figures.items()}


PROGRESS_CSV_HEADER = [
    "Name",
    "E-mail",
    "Open edX username",
    "Run",
    "Enrolled on",
    "Grade (%)",
    "Letter grade",
    "Passed on",
    "Certificate",
    "Certificate URL",
    "Last change seen",
    "Needs attention",
    "Last nudged",
    "As of",
]
PROGRESS_CSV_CHUNK = 1000


def _when(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def progress_csv_row(line: ProgressLine) -> list[str]:
    row = line.row
    return [
        line.name,
        line.email,
        row.edx_username,
        row.run.courseware_id,
        _when(row.enrolled_on),
        "" if line.grade is None else str(line.grade),
        row.letter_grade,
        _when(row.first_passed_on),
        row.cert_status,
        line.certificate_link,
        _when(row.changed_on),
        "yes" if line.attention else "no",
        _when(row.last_nudged_on),
        _when(row.as_of),
    ]


def iter_progress_csv_rows(
    contract_id: int, cutoffs: AttentionCutoffs, *, chunk: int = PROGRESS_CSV_CHUNK
) -> Iterator[list[str]]:
    """The header, then every row of the contract (``PROGRESS_CSV_HEADER``) in the order they
    were first seen, read ``chunk`` rows a query (keyset on the id, so a row written meanwhile
    neither repeats nor shifts the rest). The cells are plain text: the writer
    (``config.exports.csv_lines``) makes them spreadsheet-safe. It does not check the
    contract's visibility: callers ask ``shows_learners`` first."""
    yield list(PROGRESS_CSV_HEADER)
    rows = progress_rows(contract_id, cutoffs).order_by("pk")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:chunk])
        for row in batch:
            yield progress_csv_row(progress_line(row, cutoffs))
        if len(batch) < chunk:
            return
        last = batch[-1].pk


# The managers' weekly digest.


def manager_role(user: User, organization: OrganizationPage) -> OrganizationManager | None:
    """The user's manager role in ``organization`` (None when they hold none): whose digest
    choice the organization's page shows and changes."""
    if not getattr(user, "is_authenticated", False):
        return None
    return OrganizationManager.objects.filter(user=user, organization=organization).first()


def digest_history(role: OrganizationManager, limit: int = 4) -> list[ProgressDigest]:
    """The manager's last ``limit`` digests in this organization, newest week first."""
    return list(ProgressDigest.objects.filter(manager=role).order_by("-week_of", "-pk")[:limit])


@dataclass(frozen=True)
class RunSyncState:
    """Where the progress sync of one of a contract's runs stands (staff's view)."""

    courseware_id: str
    synced: bool  # a sync row exists: the run was swept at least once, or is being
    state: str  # a ProgressSyncState value; "" before any sweep
    state_label: str
    last_attempt_on: datetime | None
    last_success_on: datetime | None
    failures: int
    last_error: str
    learners: int
    unmapped: int


def run_sync_states(contract_id: int) -> list[RunSyncState]:
    """Each of the contract's runs with its progress sync's state, by courseware id (one
    query)."""
    states = []
    for run in (
        CourseRun.objects.filter(b2b_contract_id=contract_id)
        .select_related("b2b_progress_sync")
        .order_by("courseware_id")
    ):
        sync = getattr(run, "b2b_progress_sync", None)
        if sync is None:
            states.append(
                RunSyncState(
                    courseware_id=run.courseware_id,
                    synced=False,
                    state="",
                    state_label="Never synced",
                    last_attempt_on=None,
                    last_success_on=None,
                    failures=0,
                    last_error="",
                    learners=0,
                    unmapped=0,
                )
            )
            continue
        states.append(
            RunSyncState(
                courseware_id=run.courseware_id,
                synced=True,
                state=sync.state,
                state_label=ProgressSyncState(sync.state).label,
                last_attempt_on=sync.last_attempt_on,
                last_success_on=sync.last_success_on,
                failures=sync.failures,
                last_error=sync.last_error,
                learners=sync.learners,
                unmapped=sync.unmapped,
            )
        )
    return states
