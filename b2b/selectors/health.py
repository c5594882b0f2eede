"""What b2b's health checks read of b2b's own rows (``b2b.services.health``): each a single query
over the contracts in scope (``contract_ids`` None: every contract), writing nothing.

Only models here: the checks decide what counts as a problem and how to word it.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery

from b2b.enums import EmailState
from b2b.models import (
    ContractCodeStatus,
    ContractMembership,
    ContractPage,
    OrganizationManager,
    ProgressDigest,
    ReportedHealthFinding,
)


def contracts_by_id(contract_ids: list[int] | None) -> dict[int, ContractPage]:
    """The contracts in scope by id, in id order."""
    contracts = ContractPage.objects.order_by("pk")
    if contract_ids is not None:
        contracts = contracts.filter(pk__in=contract_ids)
    return {contract.pk: contract for contract in contracts}


def code_statuses(contract_ids: list[int] | None) -> dict[int, ContractCodeStatus]:
    """The code reconciliation status of each contract in scope that has one, by contract id."""
    statuses = ContractCodeStatus.objects.all()
    if contract_ids is not None:
        statuses = statuses.filter(pk__in=contract_ids)
    return {status.contract_id: status for status in statuses}


def capped_member_counts(contract_ids: list[int] | None) -> list[tuple[int, int]]:
    """(contract id, number of members) of each capped contract in scope that has members."""
    members = ContractMembership.objects.filter(contract__max_learners__isnull=False)
    if contract_ids is not None:
        members = members.filter(contract_id__in=contract_ids)
    return list(members.values_list("contract_id").annotate(n=Count("pk")).order_by())


def lines_without_membership_or_enrollment(lines: QuerySet) -> list[dict]:
    """Those of ``lines`` (fulfilled order lines as ``ecommerce.selectors.fulfilled_lines`` gives
    them) whose purchaser is not enrolled in the run, or not a member of the run's contract;
    each with ``member`` added."""
    member = ContractMembership.objects.filter(
        user_id=OuterRef("purchaser_id"), contract_id=OuterRef("contract_id")
    )
    return list(
        lines.annotate(member=Exists(member)).filter(
            Q(enrolled=False) | Q(contract_id__isnull=False, member=False)
        )
    )


def reported_fingerprints(fingerprints: Iterable[str]) -> set[str]:
    """Which of these findings staff were already told about."""
    return set(
        ReportedHealthFinding.objects.filter(fingerprint__in=list(fingerprints)).values_list(
            "fingerprint", flat=True
        )
    )


def opted_in_digests() -> list[dict[str, Any]]:
    """Each manager who wants the weekly progress digest, with the state and error of their
    latest digest and when their latest sent one went out (one query): ``pk``, ``email``,
    ``organization_title``, ``latest_state``, ``latest_error``, ``last_sent_on``."""
    latest = ProgressDigest.objects.filter(manager_id=OuterRef("pk")).order_by("-week_of", "-pk")
    sent = ProgressDigest.objects.filter(
        manager_id=OuterRef("pk"), state=EmailState.SENT, sent_on__isnull=False
    ).order_by("-sent_on")
    rows = (
        OrganizationManager.objects.filter(wants_digest=True, user__is_active=True)
        .annotate(
            latest_state=Subquery(latest.values("state")[:1]),
            latest_error=Subquery(latest.values("last_error")[:1]),
            last_sent_on=Subquery(sent.values("sent_on")[:1]),
        )
        .order_by("pk")
        .values(
            "pk",
            "latest_state",
            "latest_error",
            "last_sent_on",
            email=F("user__email"),
            organization_title=F("organization__title"),
        )
    )
    return [dict(row) for row in rows]
