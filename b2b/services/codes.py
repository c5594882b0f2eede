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
by a recent pending order or applied in a basket: ``ecommerce.services.contract_codes.code_held``):
lowering a cap takes unheld codes only, and when the held ones alone exceed the cap, the surplus
stays until they are settled and the contract stays pending meanwhile. The work is set-based (a
constant number of queries per batch of codes), serialised per contract by a row lock on its
ContractCodeStatus, and idempotent. Requests are versioned so that a pile of requests for one
contract coalesces.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from b2b.models import ContractCodeStatus, ContractPage, Invitation
from b2b.services.code_status import recorded_failure
from b2b.services.locking import lock_for_change, lock_for_reconciliation
from config.money import format_money
from config.queueing import queue_after_commit
from courses.models import CourseRun
from ecommerce.enums import RedemptionType
from ecommerce.services import bulk_codes, products
from ecommerce.services import contract_codes as ecommerce_codes
from ecommerce.services.bulk_codes import CodeStamp
from ecommerce.services.contract_codes import CensusGroup, ProductCodeStats

log = logging.getLogger(__name__)

# The registered name of the task that runs ``reconcile_contract_codes`` (b2b/tasks.py).
RECONCILE_TASK = "b2b.reconcile_contract_codes"

Progress = Callable[[str, int, int], None]  # (step, done, total)

# Where reconciliations running in this context report progress when the caller passes nothing:
# a command run from a terminal sets it, so work its eager task does shows up there too.
progress_reporter: ContextVar[Progress | None] = ContextVar("progress_reporter", default=None)


class CodeMode(Enum):
    ONE_TIME = "one-time codes up to the cap"
    UNLIMITED = "one unlimited code per product"
    KEEP = "no new codes (SSO, free, capped)"
    DELETE = "unredeemed codes deleted (SSO, free, uncapped)"


def code_mode(contract: ContractPage) -> CodeMode:
    if contract.is_sso and contract.is_free:
        return CodeMode.KEEP if contract.max_learners else CodeMode.DELETE
    return CodeMode.ONE_TIME if contract.max_learners else CodeMode.UNLIMITED


@dataclass
class CodePlan:
    """What a reconciliation will do (or did)."""

    contract_id: int
    mode: CodeMode
    price: Decimal
    product_ids: list[int] = field(default_factory=list)  # the contract's active products
    products_to_reprice: int = 0
    # The codes' price and dates are one row per contract (``ContractCodeTerms``): a change
    # writes that row (``terms_change``), and these say how many codes it moves.
    terms_change: bool = False
    codes_to_reprice: int = 0
    codes_to_redate: int = 0  # codes whose activation or expiration date moves
    codes_to_retype: int = 0
    create: dict[int, int] = field(default_factory=dict)  # product id -> new codes
    reactivate: dict[int, int] = field(default_factory=dict)
    deactivate: dict[int, int] = field(default_factory=dict)
    codes_to_delete: int = 0
    # Deletion (SSO, free, uncapped): codes an older pending order was placed with are
    # deactivated instead, so that the order keeps its code.
    codes_to_retire: int = 0
    # Codes the terms would remove but a learner is using now: they stay until that is settled.
    codes_held_back: int = 0

    @property
    def codes_to_create(self) -> int:
        return sum(self.create.values())

    @property
    def codes_to_reactivate(self) -> int:
        return sum(self.reactivate.values())

    @property
    def codes_to_deactivate(self) -> int:
        return sum(self.deactivate.values()) + self.codes_to_retire

    @property
    def is_noop(self) -> bool:
        return not (
            self.products_to_reprice
            or self.terms_change
            or self.codes_to_reprice
            or self.codes_to_redate
            or self.codes_to_retype
            or self.create
            or self.reactivate
            or self.deactivate
            or self.codes_to_delete
            or self.codes_to_retire
        )

    def summary_lines(self) -> list[str]:
        if self.is_noop:
            lines = ["Codes: already up to date"]
        else:
            lines = [
                f"Codes ({self.mode.value}, {len(self.product_ids)} products, "
                f"price {format_money(self.price)}):",
                f"  create {self.codes_to_create}, reactivate {self.codes_to_reactivate}, "
                f"deactivate {self.codes_to_deactivate}, delete {self.codes_to_delete}",
                f"  re-price {self.codes_to_reprice} codes and {self.products_to_reprice} "
                f"products, change redemption type of {self.codes_to_retype}",
            ]
            if self.codes_to_redate:
                lines.append(f"  move the dates of {self.codes_to_redate} codes")
        if self.codes_held_back:
            lines.append(f"  {held_back_note(self.codes_held_back, self.mode)}")
        return lines


def held_back_note(count: int, mode: CodeMode) -> str:
    """What happens to codes the terms would remove while learners are using them."""
    what = "deleted" if mode is CodeMode.DELETE else "deactivated"
    if count == 1:
        return f"keep 1 code held by a payment in progress ({what} once it is settled)"
    return f"keep {count} codes held by payments in progress ({what} once they are settled)"


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


def contract_product_ids(contract_id: int) -> list[int]:
    """The active products of the contract's runs, in id order (one query)."""
    return ecommerce_codes.active_product_ids(
        CourseRun.objects.filter(b2b_contract_id=contract_id).values("pk")
    )


def invitation_code_ids(contract_id: int):
    """The ids of the codes the contract's invitations were given (a query, not run here): the
    pool's reconciliation leaves them alone. An open invitation's code is its invitee's (never
    deactivated, counted as held); a revoked one's is withdrawn for good (never reactivated,
    whatever the cap does later); a redeemed one's is redeemed."""
    return Invitation.objects.filter(contract_id=contract_id, code__isnull=False).values("code_id")


def plan_reconciliation(contract: ContractPage) -> CodePlan:
    """Work out what reconciliation would change, reading aggregates only (no per-code rows)."""
    mode = code_mode(contract)
    price = contract.price
    plan = CodePlan(contract_id=contract.pk, mode=mode, price=price)
    product_ids = contract_product_ids(contract.pk)
    plan.product_ids = product_ids
    plan.products_to_reprice = products.count_products_to_reprice(product_ids, price)
    census = ecommerce_codes.contract_code_census(contract.pk)
    restamp = bulk_codes.count_codes_to_restamp(
        contract.pk,
        code_stamp(contract),
        codes=None if census is None else sum(group.codes for group in census),
    )
    plan.terms_change = restamp.terms
    plan.codes_to_reprice = restamp.repriced
    plan.codes_to_redate = restamp.redated
    if census is not None and _census_matches(contract, product_ids, census):
        return plan  # the codes themselves already fit, told by a few rows per product
    if mode is CodeMode.KEEP:
        return plan
    if mode is CodeMode.DELETE:
        unredeemed = bulk_codes.count_unredeemed_codes(contract.pk)
        plan.codes_to_delete = unredeemed.deletable
        plan.codes_to_retire = unredeemed.to_deactivate
        plan.codes_held_back = unredeemed.held
        return plan

    stats = ecommerce_codes.product_code_stats(
        contract_id=contract.pk, product_ids=product_ids, set_aside=invitation_code_ids(contract.pk)
    )
    plan.codes_to_retype = bulk_codes.count_codes_to_retype(contract.pk, _redemption_type(mode))
    if mode is CodeMode.ONE_TIME and contract.max_learners is not None:  # one-time codes: capped
        for product_id in product_ids:
            _plan_capped(plan, product_id, stats.get(product_id), contract.max_learners)
    else:
        for product_id in product_ids:
            _plan_unlimited(plan, product_id, stats.get(product_id))
    return plan


def day_starts(day: date) -> datetime:
    """The first instant of ``day`` in the site's time zone (settings.TIME_ZONE)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def day_ends(day: date) -> datetime:
    """The last instant (microsecond) of ``day`` in the site's time zone."""
    return datetime.combine(day, time.max, tzinfo=ZoneInfo(settings.TIME_ZONE))


def code_stamp(contract: ContractPage) -> CodeStamp:
    """What each of the contract's codes carries: its price, usable from the start of the
    contract's first day to the end of its last day in the site's time zone."""
    start, end = contract.contract_start, contract.contract_end
    return CodeStamp(
        price=contract.price,
        activation=day_starts(start) if start else None,
        expiration=day_ends(end) if end else None,
    )


def _census_matches(
    contract: ContractPage, product_ids: list[int], census: list[CensusGroup]
) -> bool:
    """Whether the contract's codes, as its census counts them, already are what its terms
    say: every code has the right type, and each product has its codes (their price and dates
    are the contract's terms row, which the plan compares on its own).
    False sends the plan to the full count, which also sees what the census cannot (codes in
    use); so False may be said of a contract with nothing to do, True only of one."""
    mode = code_mode(contract)
    if not all(_group_conforms(group, mode) for group in census):
        return False
    if mode in (CodeMode.KEEP, CodeMode.DELETE):
        return True
    usable = dict.fromkeys(product_ids, 0)
    redeemed = dict.fromkeys(product_ids, 0)
    for group in census:
        if group.product_id in usable and group.redeemed:
            redeemed[group.product_id] += group.codes
        elif group.product_id in usable and group.is_active:
            usable[group.product_id] += group.codes
    if mode is CodeMode.UNLIMITED:
        return all(usable.values())
    cap = contract.max_learners or 0
    return all(usable[p] == max(cap - redeemed[p], 0) for p in product_ids)


def _group_conforms(group: CensusGroup, mode: CodeMode) -> bool:
    """Whether these codes have the mode's type (a used one-time code stays used up) and, for
    a deletion, are all redeemed."""
    if mode is CodeMode.KEEP:
        return True
    if mode is CodeMode.DELETE:
        return group.redeemed
    if mode is CodeMode.UNLIMITED and group.redeemed:
        return True
    return group.redemption_type == _redemption_type(mode)


def _plan_capped(plan: CodePlan, product_id: int, stats: ProductCodeStats | None, cap: int):
    stats = stats or ProductCodeStats()
    target = max(cap - stats.redeemed, 0)
    if stats.active_unredeemed > target:
        surplus = stats.active_unredeemed - target
        unheld = stats.active_unredeemed - stats.held
        if min(surplus, unheld):
            plan.deactivate[product_id] = min(surplus, unheld)
        plan.codes_held_back += surplus - min(surplus, unheld)
    elif stats.active_unredeemed < target:
        missing = target - stats.active_unredeemed
        reactivate = min(missing, stats.inactive_unredeemed)
        if reactivate:
            plan.reactivate[product_id] = reactivate
        if missing - reactivate:
            plan.create[product_id] = missing - reactivate


def _plan_unlimited(plan: CodePlan, product_id: int, stats: ProductCodeStats | None):
    stats = stats or ProductCodeStats()
    if stats.active_unredeemed:
        return
    if stats.inactive_unredeemed:
        plan.reactivate[product_id] = 1
    else:
        plan.create[product_id] = 1


def _redemption_type(mode: CodeMode) -> RedemptionType:
    """The redemption type of the codes a capped (one-time) or uncapped contract gives."""
    return RedemptionType.ONE_TIME if mode is CodeMode.ONE_TIME else RedemptionType.UNLIMITED


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
        bulk_codes.retype_codes(contract.pk, _redemption_type(plan.mode))
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
            redemption_type=_redemption_type(plan.mode),
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


@dataclass(frozen=True)
class ProductCodeRule:
    """What the code rules say one product of a contract should have in usable codes (active,
    never redeemed). ``usable`` is None when the rules leave the number as it is (SSO, free,
    capped: no new codes); ``redemption_type`` is None when no usable code should exist.
    ``pool_only``: the number and type are those of the pool alone, and personal invitation
    codes (an uncapped contract's one-time code per open invitation, which a reconciliation
    leaves as they are) are not counted against them; under a cap every code counts."""

    usable: int | None
    redemption_type: RedemptionType | None
    price: Decimal
    pool_only: bool = False


def product_code_rule(contract: ContractPage, *, redeemed: int) -> ProductCodeRule:
    """The usable codes the rules give a product of ``contract`` that has ``redeemed`` redeemed
    codes: the public face of the plan above, for readers (the health report) that compare
    many products at once without planning each contract."""
    mode = code_mode(contract)
    if mode is CodeMode.DELETE:
        return ProductCodeRule(usable=0, redemption_type=None, price=contract.price)
    if mode is CodeMode.KEEP:
        return ProductCodeRule(usable=None, redemption_type=None, price=contract.price)
    if mode is CodeMode.ONE_TIME and contract.max_learners is not None:
        usable = max(contract.max_learners - redeemed, 0)
    else:
        usable = 1
    return ProductCodeRule(
        usable=usable,
        redemption_type=_redemption_type(mode),
        price=contract.price,
        pool_only=mode is CodeMode.UNLIMITED,
    )
