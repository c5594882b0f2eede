"""Reads behind the progress e-mails: the rows a nudge may go to, the contracts nudged
automatically, the managers who get the weekly digest, and what each digest says per contract
(the funnel, and what changed since the previous digest).

The rules are ``b2b.models.progress``'s (``needs_attention_q``, ``newly_flagged_q``...) and the
funnel is ``progress_summaries``', so a digest says what the manager's page says. What a digest
shows follows the contract's visibility, like the page: a contract that shows aggregates only
hides a change of fewer than ``B2B_PROGRESS_MIN_GROUP`` learners as it hides a small stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse

from b2b.enums import EmailState, ProgressVisibility
from b2b.models import (
    AttentionCutoffs,
    ContractMembership,
    ContractPage,
    LearnerProgress,
    OrganizationManager,
    OrganizationPage,
    ProgressDigest,
    certified_q,
    needs_attention_q,
    newly_flagged_q,
)
from b2b.selectors.progress import (
    ProgressSummary,
    count_learners,
    min_group,
    progress_summaries,
    shows_learners,
)
from users.models import User

# Nudges.


def flagged_rows(
    contract_id: int, cutoffs: AttentionCutoffs, *, progress_ids: Iterable[int] | None = None
) -> QuerySet[LearnerProgress]:
    """The contract's rows that need attention at ``cutoffs``; of ``progress_ids`` only, when
    given (an id of another contract's row is not among them)."""
    rows = LearnerProgress.objects.filter(contract_id=contract_id).filter(
        needs_attention_q(cutoffs)
    )
    if progress_ids is not None:
        rows = rows.filter(pk__in=list(progress_ids))
    return rows


def auto_nudge_contracts() -> QuerySet[ContractPage]:
    """The active contracts whose learners are nudged automatically: those with ``auto_nudges``
    that show their learners one by one (a nudge names the learner)."""
    return (
        ContractPage.objects.filter(auto_nudges=True, active=True)
        .exclude(progress_visibility=ProgressVisibility.AGGREGATES)
        .order_by("pk")
    )


# The weekly digest.


def digest_recipients() -> QuerySet[OrganizationManager]:
    """The managers who asked for the weekly digest, with their user and organization."""
    return (
        OrganizationManager.objects.filter(wants_digest=True, user__is_active=True)
        .select_related("user", "organization")
        .order_by("pk")
    )


def last_digest_sent_on(manager_id: int) -> datetime | None:
    """When the manager's latest digest that was delivered went out."""
    return ProgressDigest.objects.filter(manager_id=manager_id, state=EmailState.SENT).aggregate(
        last=Max("sent_on")
    )["last"]


@dataclass(frozen=True)
class ProgressChanges:
    """What changed in a contract since a moment, each count None when hidden (aggregates only,
    fewer than B2B_PROGRESS_MIN_GROUP): learners who joined, passed and were certified, and the
    rows newly flagged as needing attention."""

    joined: int | None
    passed: int | None
    certified: int | None
    newly_flagged: int | None


@dataclass
class _RawChanges:
    joined: int = 0
    passed: int = 0
    certified: int = 0
    newly_flagged: int = 0


def _raw_changes(
    contract_ids: list[int], since: datetime, cutoffs: AttentionCutoffs
) -> dict[int, _RawChanges]:
    """The changes of these contracts since ``since`` (two queries, whatever their number)."""
    found = {cid: _RawChanges() for cid in contract_ids}
    learners = count_learners

    for row in (
        LearnerProgress.objects.filter(contract_id__in=contract_ids)
        .values("contract_id")
        .annotate(
            n_passed=learners(Q(first_passed_on__gt=since)),
            n_certified=learners(certified_q() & Q(cert_created_on__gt=since)),
            n_flagged=learners(newly_flagged_q(cutoffs, since)),
        )
        .order_by()
    ):
        changes = found[row["contract_id"]]
        changes.passed = row["n_passed"]
        changes.certified = row["n_certified"]
        changes.newly_flagged = row["n_flagged"]
    for member_row in (
        ContractMembership.objects.filter(contract_id__in=contract_ids, created_on__gt=since)
        .values("contract_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        found[member_row["contract_id"]].joined = member_row["n"]
    return found


def _shown(count: int, *, aggregates: bool) -> int | None:
    return None if aggregates and 0 < count < min_group() else count


def progress_changes(
    contracts: Iterable[ContractPage], since: datetime, cutoffs: AttentionCutoffs
) -> dict[int, ProgressChanges]:
    """Per contract id, what changed since ``since`` as its managers may see it."""
    contracts = list(contracts)
    raw = _raw_changes([c.pk for c in contracts], since, cutoffs)
    shown: dict[int, ProgressChanges] = {}
    for contract in contracts:
        aggregates = not shows_learners(contract)
        changes = raw[contract.pk]
        shown[contract.pk] = ProgressChanges(
            joined=_shown(changes.joined, aggregates=aggregates),
            passed=_shown(changes.passed, aggregates=aggregates),
            certified=_shown(changes.certified, aggregates=aggregates),
            newly_flagged=_shown(changes.newly_flagged, aggregates=aggregates),
        )
    return shown


def contract_progress_link(contract_id: int) -> str:
    """The absolute address of the contract's progress on the manager pages."""
    return settings.SITE_BASE_URL + reverse("manage:contract", args=[contract_id]) + "#progress"


@dataclass(frozen=True)
class DigestSection:
    """One contract in a digest: its funnel, what changed, and where to see more."""

    contract_id: int
    title: str
    summary: ProgressSummary
    changes: ProgressChanges
    link: str
    csv_link: str | None  # None when the contract shows aggregates only (no CSV)


def contract_progress_csv_link(contract_id: int) -> str:
    """The absolute address of the contract's progress CSV on the manager pages."""
    return settings.SITE_BASE_URL + reverse("manage:progress-csv", args=[contract_id])


def digest_sections(
    organization: OrganizationPage, since: datetime, cutoffs: AttentionCutoffs
) -> list[DigestSection]:
    """The organization's contracts, by title, each as its digest section (six queries,
    whatever the number of contracts)."""
    contracts = sorted(
        ContractPage.objects.of_organization(organization),
        key=lambda c: (c.title.lower(), c.pk),
    )
    summaries = progress_summaries(contracts, cutoffs)
    changes = progress_changes(contracts, since, cutoffs)
    return [
        DigestSection(
            contract_id=contract.pk,
            title=contract.title,
            summary=summaries[contract.pk],
            changes=changes[contract.pk],
            link=contract_progress_link(contract.pk),
            csv_link=(
                contract_progress_csv_link(contract.pk)
                if summaries[contract.pk].per_learner
                else None
            ),
        )
        for contract in contracts
    ]


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
