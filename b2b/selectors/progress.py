"""Reads of what a contract's learners did after they joined, in figures: the funnel (invited,
joined, enrolled, started, passed, certified), the completion rate and the needs-attention count,
for one contract or an organization's (the rows themselves are ``b2b.selectors.progress_rows``).

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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    Max,
    Q,
    When,
)

from b2b.enums import InvitationState, ProgressVisibility
from b2b.models import (
    AttentionCutoffs,
    ContractMembership,
    ContractPage,
    Invitation,
    LearnerProgress,
    OrganizationPage,
    certified_q,
    completed_q,
    needs_attention_q,
    started_q,
)

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
    has_learners: bool  # Open edX lists learners in the contract's runs
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
    def completion_text(self) -> str:
        """The completion rate in words: a percent, or why there is none."""
        if self.completion_rate is not None:
            return f"{self.completion_rate}%"
        if not self.has_learners:
            return "none enrolled yet"
        return f"hidden (groups under {min_group()} learners are not shown)"

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
    learners: int = 0  # every learner of the rows, enrolled now or not
    needs_attention: int = 0  # rows
    flagged_learners: int = 0
    unmapped: int = 0
    as_of: datetime | None = None


def count_learners(condition: Q) -> Count:
    """The learners of the rows that meet ``condition``: an Open edX username once, whatever
    the number of its runs, as every figure of progress counts them. COUNT(DISTINCT CASE ...):
    SQLite has no DISTINCT aggregate with a FILTER clause."""
    return Count(Case(When(condition, then=F("edx_username"))), distinct=True)


def _progress_counts(contract_ids: list[int], cutoffs: AttentionCutoffs) -> dict[int, _Counts]:
    """The figures of these contracts: three queries, whatever their number or size."""
    counts = {cid: _Counts() for cid in contract_ids}
    learners = count_learners
    # The annotations are named n_* so that the conditions' fields (passed...) are not shadowed.
    for row in (
        LearnerProgress.objects.filter(contract_id__in=contract_ids)
        .values("contract_id")
        .annotate(
            n_enrolled=learners(Q(active=True)),
            n_started=learners(started_q()),
            n_passed=learners(Q(passed=True)),
            n_certified=learners(certified_q()),
            n_completed=learners(completed_q()),
            n_learners=Count("edx_username", distinct=True),
            flagged=Count("pk", filter=needs_attention_q(cutoffs)),
            n_flagged_learners=learners(needs_attention_q(cutoffs)),
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
            "learners",
            "flagged_learners",
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
    # The rate is of every learner Open edX lists in the runs (one who passed and then
    # unenrolled still completed), and hidden with the counts behind it: 2 of 6 shown as 33%
    # would tell the 2.
    completion = (
        None
        if counts.learners == 0
        or _shown(counts.learners, aggregates=aggregates) is None
        or _shown(counts.completed, aggregates=aggregates) is None
        else round(100 * counts.completed / counts.learners)
    )
    # The needs-attention count is of rows (as the table's filter), hidden by its learners.
    flagged_hidden = _shown(counts.flagged_learners, aggregates=aggregates) is None
    return ProgressSummary(
        contract_id=contract.pk,
        seats=contract.max_learners,
        stages=tuple(stages),
        completion_rate=completion,
        needs_attention=None if flagged_hidden else counts.needs_attention,
        unmapped=counts.unmapped if staff else None,
        as_of=counts.as_of,
        per_learner=per_learner,
        has_learners=counts.learners > 0,
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


def organization_progress(
    organization: OrganizationPage, cutoffs: AttentionCutoffs
) -> dict[int, ProgressSummary]:
    """The summaries of the organization's contracts, by id, as its managers see them (four
    queries, whatever the number of contracts): the overview's completion rates and
    needs-attention counts."""
    return progress_summaries(ContractPage.objects.of_organization(organization), cutoffs)
