"""Whether an enrollment (discount) code may be used for a cart, and whether a cart of a
contract's courses may do without one: the one place these rules live.

The cart calls ``validate_code`` when a code is applied and when it is shown; checkout and the
payment receipt call it again with ``lock=True`` inside their transaction, so the row lock on the
code serialises everyone trying to use it.

Without a code, ``member_refusal`` decides: a B2B product is checked out without a code only by
a member of its run's contract while the contract is open (a member pays the product's price,
which is the contract's price, course by course). Everyone else needs the code.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.formats import date_format

from b2b.enums import AdmissionRefusal
from b2b.selectors.learners import member_contracts_among
from b2b.services.memberships import admission_refusal
from courses.models import CourseRun
from ecommerce import selectors
from ecommerce.constants import PENDING_ORDER_HOLD
from ecommerce.enums import RedemptionType
from ecommerce.exceptions import (
    CheckoutRefused,
    CodeAlreadyRedeemed,
    CodeExpired,
    CodeForAnotherContract,
    CodeInactive,
    CodeInUse,
    CodeNotForCart,
    CodeNotFound,
    CodeNotYetValid,
    CodeRefused,
    CodeRequired,
    ContractClosed,
    ContractFull,
    ContractInactive,
    ContractOutsideDates,
)
from ecommerce.models import Discount, DiscountProduct, DiscountRedemption, Order, Product
from users.models import User

if TYPE_CHECKING:  # for the annotations only: ecommerce reads a contract through b2b's services
    from b2b.models import ContractPage

# The learner's error for each reason the code's contract refuses them.
CONTRACT_REFUSALS: dict[AdmissionRefusal, type[CodeRefused]] = {
    AdmissionRefusal.INACTIVE: ContractInactive,
    AdmissionRefusal.OUTSIDE_DATES: ContractOutsideDates,
    AdmissionRefusal.FULL: ContractFull,
}


@dataclass(frozen=True)
class ValidCode:
    discount: Discount
    contract: "ContractPage | None"
    # The products of the cart the code applies to.
    product_ids: frozenset[int]


def normalize_code(code: str) -> str:
    return (code or "").strip()


def find_code(code: str, *, lock: bool = False) -> Discount:
    """The code, by its text, with the price and dates it is used at (``with_code_terms``,
    read in the same statement); with ``lock`` its row stays locked until the transaction ends
    (the code's own row only: a contract's terms row is read, not locked)."""
    queryset = selectors.with_code_terms(Discount.objects.all())
    if lock:
        queryset = queryset.select_for_update(no_key=True, of=("self",))
    discount = queryset.filter(discount_code=normalize_code(code)).first()
    if discount is None:
        raise CodeNotFound
    return discount


def _check_dates(discount: Discount, now: datetime) -> None:
    """A code is used between its dates; a contract's codes use the contract's (the start of
    its first day, the end of its last day, in the site's time zone), from its terms row."""
    if discount.usable_from and now < discount.usable_from:
        raise CodeNotYetValid(f"This code is not valid until {_when(discount.usable_from)}.")
    if discount.usable_until and now > discount.usable_until:
        raise CodeExpired(f"This code expired on {_when(discount.usable_until)}.")


def _when(moment: datetime) -> str:
    """A code's date for the learner, in the site's time zone: "Jan. 5, 2027, midnight" (a
    final dot, as in "p.m.", is left to the sentence)."""
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT").rstrip(".")


def _check_products(
    discount: Discount, products: Sequence[Product], runs: dict[int, CourseRun]
) -> frozenset[int]:
    linked = frozenset(
        DiscountProduct.objects.filter(
            discount=discount, product_id__in=[p.pk for p in products]
        ).values_list("product_id", flat=True)
    )
    if not linked:
        raise CodeNotForCart
    for product in products:
        run = runs.get(product.pk)
        contract_id = run.b2b_contract_id if run is not None else None
        if contract_id is None:
            continue
        if product.pk not in linked:
            raise CodeNotForCart
        if discount.b2b_contract_id != contract_id:
            raise CodeForAnotherContract
    return linked


def _check_contract(discount: Discount, user: User, *, paid: bool) -> "ContractPage | None":
    """The code's contract, if it has one, when b2b admits the learner to it (``paid``: with
    an accepted payment, see ``admission_refusal``)."""
    contract = discount.b2b_contract
    if contract is None:
        return None
    reason = admission_refusal(contract=contract, user=user, code_id=discount.pk, paid=paid)
    if reason is not None:
        raise CONTRACT_REFUSALS[reason]
    return contract


def _check_redemptions(
    discount: Discount, user: User, now: datetime, holding_order: Order | None
) -> None:
    if discount.redemption_type == RedemptionType.ONE_TIME:
        if DiscountRedemption.objects.filter(discount=discount).exists():
            raise CodeAlreadyRedeemed
        holds = selectors.pending_holds(
            discount.pk, since=now - PENDING_ORDER_HOLD, exclude_user=user
        )
        if holding_order is not None:
            holds = holds.exclude(pk=holding_order.pk)
        if holds.exists():
            raise CodeInUse
    elif (
        discount.redemption_type == RedemptionType.ONE_TIME_PER_USER
        and DiscountRedemption.objects.filter(discount=discount, redeemed_by=user).exists()
    ):
        raise CodeAlreadyRedeemed("You have already used this code.")


def validate_code(
    *,
    user: User,
    code: str,
    products: Sequence[Product],
    lock: bool = False,
    holding_order: Order | None = None,
) -> ValidCode:
    """Check that ``user`` may use ``code`` for a cart holding ``products``.

    Accepted only if the code exists and is active; today is inside its activation and
    expiration dates; it is linked to a product of the cart (and, for a B2B product, belongs to
    that product's contract); its contract is active and inside its dates; it is not already
    redeemed (one-time: by anyone, or held by someone else's pending payment; one-time per user:
    by this learner); and the contract's learner cap is not reached, unless the learner is
    already a member. Each refusal raises its own ``CodeRefused`` subclass.

    ``holding_order`` is an order of this learner allowed to hold the code (the one being paid).
    A code deactivated after that order was placed with it still counts for it: the learner has
    paid with it, and the rest of the checks (the contract's admission above all) still decide.
    """
    now = timezone.now()
    discount = find_code(code, lock=lock)
    placed_with = holding_order is not None and holding_order.discount_id == discount.pk
    if (not discount.is_active and not placed_with) or discount.price is None:
        raise CodeInactive  # no price: a contract code whose terms are not written yet
    _check_dates(discount, now)
    linked = _check_products(discount, products, selectors.runs_by_product(products))
    contract = _check_contract(discount, user, paid=holding_order is not None)
    _check_redemptions(discount, user, now, holding_order)
    return ValidCode(discount=discount, contract=contract, product_ids=linked)


def member_refusal(*, user: User, runs: Iterable[CourseRun]) -> CheckoutRefused | None:
    """Why ``user`` may not check out these runs without a code; None if they may.

    Each B2B run must belong to a contract the learner is a member of (else CodeRequired: a
    newcomer joins with a code), and that contract must be active and inside its dates (else
    ContractClosed); a member is never refused as full. Runs without a contract need nothing.
    Checkout and the payment receipt call it after locking the cart's contracts
    (``lock_contracts_to_join``), so the terms it reads cannot change before the order is
    fulfilled. One query, whatever the cart holds.
    """
    contract_ids = sorted({run.b2b_contract_id for run in runs if run.b2b_contract_id})
    if not contract_ids:
        return None
    mine = {c.pk: c for c in member_contracts_among(user, contract_ids)}
    for contract_id in contract_ids:
        contract = mine.get(contract_id)
        if contract is None:
            return CodeRequired()
        reason = admission_refusal(contract=contract, member=True)
        if reason is not None:
            return ContractClosed(reason)
    return None


def check_member_runs(*, user: User, runs: Iterable[CourseRun]) -> None:
    """``member_refusal``, raised."""
    refusal = member_refusal(user=user, runs=runs)
    if refusal is not None:
        raise refusal
