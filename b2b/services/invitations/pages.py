"""What the manager pages look up, always through the manager rule
(``b2b.services.invitations.managers.can_manage`` / ``can_manage_contract``), and the downloads
they record.

Each look-up returns None for what does not exist and for what the user does not manage alike,
so a page answers both with the same 404 and tells nothing about other organizations.
"""

from b2b.models import ContractPage, Invitation, InviteJob, OrganizationPage
from b2b.services.audit import record
from b2b.services.invitations.managers import can_manage, can_manage_contract
from users.models import User

DOWNLOAD_ACTION = "b2b.manager.download"


def managed_organization(user: User, org_id: int) -> OrganizationPage | None:
    org = OrganizationPage.objects.filter(pk=org_id).first()
    if org is None or not can_manage(user, org):
        return None
    return org


def managed_contract(user: User, contract_id: int) -> ContractPage | None:
    contract = ContractPage.objects.filter(pk=contract_id).first()
    if contract is None or not can_manage_contract(user, contract):
        return None
    return contract


def find_open_invitation(contract: ContractPage, invitation_id: int) -> Invitation | None:
    """The contract's invitation ``invitation_id`` (the services refuse one no longer open)."""
    return Invitation.objects.filter(contract=contract, pk=invitation_id).first()


def find_job(contract: ContractPage, job_id: int) -> InviteJob | None:
    return InviteJob.objects.filter(contract=contract, pk=job_id).first()


def record_download(contract: ContractPage, what: str) -> None:
    """Record in the contract's audit trail that its ``what`` ("codes", "learners") file was
    downloaded (by the current actor)."""
    record(contract, DOWNLOAD_ACTION, details={"file": what})
