"""Reads for the organizations' managers: the contracts they see with their seats, and who
manages which organization."""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from b2b.models import (
    ContractPage,
    OrganizationManager,
    OrganizationPage,
)
from b2b.selectors.invitations import _open_invitation_counts
from b2b.selectors.listings import contract_rows

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
