"""The code rules: what codes a contract's terms call for (its mode), and the plan that brings
the codes it has in line with them. Reading only; ``b2b.services.codes.reconcile`` carries a
plan out."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from b2b.models import ContractPage
from b2b.selectors.invitations import invitation_code_ids
from b2b.services.code_terms import code_stamp, contract_product_ids
from config.money import format_money
from ecommerce.enums import RedemptionType
from ecommerce.services import products
from ecommerce.services.contract_codes import bulk as bulk_codes
from ecommerce.services.contract_codes import reads as ecommerce_codes
from ecommerce.services.contract_codes.reads import CensusGroup, ProductCodeStats

Progress = Callable[[str, int, int], None]  # (step, done, total)


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
    plan.codes_to_retype = bulk_codes.count_codes_to_retype(contract.pk, redemption_type(mode))
    if mode is CodeMode.ONE_TIME and contract.max_learners is not None:  # one-time codes: capped
        for product_id in product_ids:
            _plan_capped(plan, product_id, stats.get(product_id), contract.max_learners)
    else:
        for product_id in product_ids:
            _plan_unlimited(plan, product_id, stats.get(product_id))
    return plan


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
    return group.redemption_type == redemption_type(mode)


def _plan_capped(plan: CodePlan, product_id: int, stats: ProductCodeStats | None, cap: int) -> None:
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


def _plan_unlimited(plan: CodePlan, product_id: int, stats: ProductCodeStats | None) -> None:
    stats = stats or ProductCodeStats()
    if stats.active_unredeemed:
        return
    if stats.inactive_unredeemed:
        plan.reactivate[product_id] = 1
    else:
        plan.create[product_id] = 1


def redemption_type(mode: CodeMode) -> RedemptionType:
    """The redemption type of the codes a capped (one-time) or uncapped contract gives."""
    return RedemptionType.ONE_TIME if mode is CodeMode.ONE_TIME else RedemptionType.UNLIMITED


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
        redemption_type=redemption_type(mode),
        price=contract.price,
        pool_only=mode is CodeMode.UNLIMITED,
    )
