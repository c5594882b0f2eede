"""b2b's models, one module per part: the pages (organizations and contracts), the members
and the per-contract records, the managers and invitations. Importers use ``b2b.models``."""

from b2b.models.invitations import (
    INVALID_NAME,
    Invitation,
    InvitationEmail,
    InviteJob,
    InviteJobRow,
    OrganizationManager,
    outcome_label,
)
from b2b.models.members import (
    ContractAlert,
    ContractCodeStatus,
    ContractMembership,
    MembershipRefusal,
    ReportedHealthFinding,
)
from b2b.models.pages import (
    ContractPage,
    ContractQuerySet,
    NotServedPage,
    OrganizationIndexPage,
    OrganizationOfContract,
    OrganizationPage,
    OrganizationQuerySet,
)

__all__ = [
    "INVALID_NAME",
    "ContractAlert",
    "ContractCodeStatus",
    "ContractMembership",
    "ContractPage",
    "ContractQuerySet",
    "Invitation",
    "InvitationEmail",
    "InviteJob",
    "InviteJobRow",
    "MembershipRefusal",
    "NotServedPage",
    "OrganizationIndexPage",
    "OrganizationManager",
    "OrganizationOfContract",
    "OrganizationPage",
    "OrganizationQuerySet",
    "ReportedHealthFinding",
    "outcome_label",
]
