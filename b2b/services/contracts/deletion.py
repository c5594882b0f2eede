"""Whether a page may be deleted without losing contract data, and the clean-up before it is.

Deleting a page deletes its subtree, so the check covers every contract at or below the page:
an organization, the Organizations index or the home page are guarded like a contract.
"""

from collections.abc import Iterable

from wagtail.models import Page
from wagtail.query import PageQuerySet

from b2b.models import ContractMembership, ContractPage
from b2b.services.locking import ContractLock, lock_contracts
from courses.models import CourseRun
from ecommerce.services.contract_codes.bulk import delete_codes_of_contracts
from ecommerce.services.contract_codes.reads import (
    count_codes_in_pending_orders,
    count_redeemed_codes,
)


def _contracts_in(page: Page) -> PageQuerySet:
    return ContractPage.objects.descendant_of(page, inclusive=True)


def lock_for_deletion(pages: Iterable[Page]) -> None:
    """Lock every contract at or below the pages for deletion, by ascending id, in one
    statement (the lock order). Call it in the deleting transaction before
    ``deletion_blockers``: no learner joins, no code is redeemed or put in a payment and no run
    is assigned between the check and the deletion."""
    contract_ids: set[int] = set()
    for page in pages:
        contract_ids.update(_contracts_in(page).values_list("pk", flat=True))
    lock_contracts(contract_ids, mode=ContractLock.DELETE)


def deletion_blockers(page: Page) -> list[str]:
    """Reasons the page (with its subtree) cannot be deleted; empty when it can."""
    contracts = _contracts_in(page)
    reasons = []
    learners = ContractMembership.objects.filter(contract__in=contracts).count()
    if learners:
        reasons.append(f"{learners} learner(s) are attached")
    runs = CourseRun.objects.filter(b2b_contract__in=contracts).count()
    if runs:
        reasons.append(f"{runs} course run(s) belong to it (detach them with --remove first)")
    redeemed = count_redeemed_codes(contracts.values("pk"))
    if redeemed:
        reasons.append(f"{redeemed} enrollment code(s) have been used")
    in_payment = count_codes_in_pending_orders(contracts.values("pk"))
    if in_payment:
        reasons.append(f"{in_payment} enrollment code(s) are held by a payment in progress")
    return reasons


def release_unused_codes(page: Page) -> int:
    """Delete the unused codes of the contracts at or below the page, which would otherwise
    block its deletion. Call it inside the transaction that deletes the page: the contracts are
    locked for deletion first (the lock order), so no reconciliation writes codes meanwhile."""
    contract_ids = list(_contracts_in(page).values_list("pk", flat=True))
    lock_contracts(contract_ids, mode=ContractLock.DELETE)  # already held after lock_for_deletion
    return delete_codes_of_contracts(contract_ids)
