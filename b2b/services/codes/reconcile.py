"""Enrollment-code reconciliation: bring a contract's codes in line with its terms.

Codes per product of the contract (codes are fixed-price at the contract price, payment type
sales, bulk):

    integration  price   cap N   codes per product
    non-sso      any     N       N one-time codes
    non-sso      any     none    1 unlimited code
    sso          > 0     N       N one-time codes
    sso          > 0     none    1 unlimited code
    sso          0/none  N       no new codes; existing ones stay, re-priced to $0
    sso          0/none  none    unredeemed codes deleted (the only deletion)

Redeemed codes are never deleted or deactivated, and neither are codes a learner is using (held
by a recent pending order or applied in a basket:
``ecommerce.services.contract_codes.reads.code_held``):
lowering a cap takes unheld codes only, and when the held ones alone exceed the cap, the surplus
stays until they are settled and the contract stays pending meanwhile. The work is set-based (a
constant number of queries per batch of codes), serialised per contract by a row lock on its
ContractCodeStatus, and idempotent. Requests are versioned so that a pile of requests for one
contract coalesces."""

import logging
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from b2b.models import ContractCodeStatus, ContractPage
from b2b.selectors.invitations import invitation_code_ids
from b2b.services.code_terms import code_stamp
from b2b.services.codes.rules import (
    CodeMode,
    CodePlan,
    Progress,
    plan_reconciliation,
    redemption_type,
)
from b2b.services.codes.status import recorded_failure
from b2b.services.locking import lock_for_change, lock_for_reconciliation
from config.queueing import queue_after_commit
from ecommerce.services import products
from ecommerce.services.contract_codes import bulk as bulk_codes

log = logging.getLogger(__name__)

# The registered name of the task that runs ``reconcile_contract_codes`` (b2b/tasks.py).
RECONCILE_TASK = "b2b.reconcile_contract_codes"

# Where reconciliations running in this context report progress when the caller passes nothing:
# a command run from a terminal sets it, so work its eager task does shows up there too.
progress_reporter: ContextVar[Progress | None] = ContextVar("progress_reporter", default=None)


@dataclass
class ReconcileResult:
    plan: CodePlan | None
    skipped: bool  # nothing was requested since the last reconciliation
    # Codes in use held part of the plan back: the contract stays pending until a later
    # reconciliation, once they are settled, finishes the work.
    held_back: int = 0


def request_code_reconciliation(contract_id: int) -> None:
    """Record that the contract's codes need reconciling and queue it after commit.

    Takes the contract and its status row in the lock order (a no-op when the caller's change
    already holds them, as it should).
    """
    lock_for_change(contract_id)
    ContractCodeStatus.objects.filter(pk=contract_id).update(
        requested_version=F("requested_version") + 1,
        pending_since=Coalesce(F("pending_since"), Now()),
    )
    queue_after_commit(RECONCILE_TASK, contract_id)


def apply_plan(contract: ContractPage, plan: CodePlan, progress: Progress | None = None) -> int:
    """Carry out ``plan``; the caller holds the contract's code lock.

    Returns how many codes the terms would remove are still in use: the plan's own count, or
    more when a checkout took a code while the plan was being carried out.
    """
    held_back = plan.codes_held_back
    if plan.products_to_reprice:
        products.reprice_products(plan.product_ids, plan.price)
    if plan.terms_change:
        bulk_codes.set_terms(contract.pk, code_stamp(contract))
    if plan.mode is CodeMode.DELETE:
        if plan.codes_to_delete or plan.codes_to_retire:
            held_back = bulk_codes.delete_unredeemed_codes(contract.pk).held
        return held_back
    if plan.codes_to_retype:
        bulk_codes.retype_codes(contract.pk, redemption_type(plan.mode))
    if plan.deactivate:
        taken = bulk_codes.deactivate_unheld_codes(
            contract.pk, plan.deactivate, set_aside=invitation_code_ids(contract.pk)
        )
        held_back += plan.codes_to_deactivate - taken
    if plan.reactivate:
        bulk_codes.reactivate_codes(
            contract.pk, plan.reactivate, set_aside=invitation_code_ids(contract.pk)
        )
    if plan.create:
        bulk_codes.create_codes(
            contract.pk,
            plan.create,
            redemption_type=redemption_type(plan.mode),
            batch_size=settings.B2B_CODE_BATCH_SIZE,
            progress=progress,
        )
    return held_back


def reconcile_contract_codes(
    *, contract_id: int, force: bool = False, progress: Progress | None = None
) -> ReconcileResult:
    """Reconcile the contract's codes if anything was requested since the last run.

    ``force`` reconciles even when nothing was requested (an operator's explicit request).
    While codes the terms would remove are in use (``CodePlan.codes_held_back``), the rest is
    done and the contract stays pending; the reconciliation that runs once they are settled
    finishes it.
    """
    progress = progress or progress_reporter.get()
    with recorded_failure(contract_id), transaction.atomic():
        status = lock_for_reconciliation(contract_id)
        if not force and status.reconciled_version >= status.requested_version:
            return ReconcileResult(plan=None, skipped=True)
        contract = ContractPage.objects.get(pk=contract_id)
        plan = plan_reconciliation(contract)
        held_back = _carry_out(contract, plan, progress)
        if not plan.is_noop:
            bulk_codes.fold_census(contract_id)
        if not held_back:
            status.reconciled_version = status.requested_version
            status.pending_since = None
        status.reconciled_on = timezone.now()
        status.last_error = ""
        status.save()
    log.info("Reconciled codes of contract %s: %s", contract_id, " ".join(plan.summary_lines()))
    return ReconcileResult(plan=plan, skipped=False, held_back=held_back)


# How many times one reconciliation plans again after checkouts took codes it was deactivating.
MAX_PASSES = 3


def _carry_out(contract: ContractPage, plan: CodePlan, progress: Progress | None) -> int:
    """Apply ``plan``; when a checkout took one of the codes meanwhile (the code was given
    back), plan again, now seeing it, and apply that. Returns how many codes stay held back."""
    held_back = plan.codes_held_back
    for _ in range(MAX_PASSES):
        if plan.is_noop:
            return plan.codes_held_back
        held_back = apply_plan(contract, plan, progress)
        if held_back == plan.codes_held_back:
            return held_back
        plan = plan_reconciliation(contract)
    return held_back
