"""Attaching learners to contracts: the one way in, whatever the path (code, purchase, SSO, staff).

The contract row is locked while the rules are checked, so concurrent attachments cannot exceed
the learner cap.
"""

import logging
from dataclasses import dataclass

from django.db import transaction

from b2b.exceptions import ContractNotFound, MembershipRefused
from b2b.models import ContractMembership, ContractPage

log = logging.getLogger(__name__)


@dataclass
class Attachment:
    membership: ContractMembership
    created: bool


def refusal_reason(contract: ContractPage, *, learners: int) -> str | None:
    """Why a new learner cannot join ``contract`` now (None when they can)."""
    if not contract.active:
        return f"Contract {contract.title!r} is not active"
    if not contract.is_open_now():
        return f"Contract {contract.title!r} is outside its dates"
    if contract.max_learners is not None and learners >= contract.max_learners:
        return f"Contract {contract.title!r} is full ({contract.max_learners} learners)"
    return None


@transaction.atomic
def attach_learner(*, user, contract_id: int, source: str, created_by=None) -> Attachment:
    """Attach ``user`` to the contract, or return their existing membership.

    Raises MembershipRefused when the contract is inactive, outside its dates, or full.
    """
    try:
        contract = ContractPage.objects.select_for_update().get(pk=contract_id)
    except ContractPage.DoesNotExist:
        raise ContractNotFound(f"No contract has id {contract_id}") from None
    existing = ContractMembership.objects.filter(user=user, contract=contract).first()
    if existing is not None:
        return Attachment(existing, created=False)
    reason = refusal_reason(contract, learners=contract.memberships.count())
    if reason is not None:
        log.warning("Refused to attach user %s to contract %s: %s", user.pk, contract.pk, reason)
        raise MembershipRefused(reason)
    membership = ContractMembership.objects.create(
        user=user, contract=contract, source=source, created_by=created_by
    )
    return Attachment(membership, created=True)


@transaction.atomic
def detach_learner(*, user, contract_id: int) -> bool:
    """Remove the learner from the contract; returns whether they were attached."""
    deleted, _ = ContractMembership.objects.filter(user=user, contract_id=contract_id).delete()
    return bool(deleted)
