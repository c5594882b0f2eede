"""Checkout: the cart becomes an order, re-validated from scratch inside one transaction.

The learner's basket row is locked first (a double submission waits, then finds the cart already
checked out), then the contracts of the cart (in the system's lock order, ``b2b.services.locking``),
then the applied code's row (everyone using the code waits their turn, so a one-time code is
redeemed at most once). A zero total is fulfilled at once, without the payment processor;
a positive total leaves a pending order (holding its code) and the signed payment form.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from b2b.enums import MembershipSource
from b2b.services.memberships import lock_contracts_to_join
from ecommerce import selectors
from ecommerce.constants import PENDING_ORDER_HOLD
from ecommerce.enums import OrderState
from ecommerce.exceptions import EmptyBasket, ProductUnavailable
from ecommerce.models import Basket, Order
from ecommerce.services.baskets import CartLine, price_lines
from ecommerce.services.code_validation import ValidCode, check_member_runs, validate_code
from ecommerce.services.fulfilment import cancel_pending_orders, create_order, fulfil_order
from ecommerce.services.payments import PaymentRequest, ensure_payment_configured, payment_request
from ecommerce.services.pricing import ZERO
from users.models import User


@dataclass(frozen=True)
class CheckoutOutcome:
    order: Order
    # Set when the learner still has to pay: the form their browser posts to the processor.
    payment: PaymentRequest | None = None
    # The course runs bought, by title.
    titles: tuple[str, ...] = ()

    @property
    def is_complete(self) -> bool:
        return self.payment is None


@dataclass(frozen=True)
class PaymentUrls:
    receipt_url: str
    cancel_url: str
    backoffice_url: str | None = None


def _line_key(product_id: int, quantity: int, total: Decimal) -> tuple[int, int, Decimal]:
    return (product_id, quantity, total)


def _reusable_pending_order(
    user: User, lines: list[CartLine], valid: ValidCode | None
) -> Order | None:
    """The learner's recent pending order for exactly this cart (a repeated checkout)."""
    wanted = sorted(_line_key(line.product.pk, line.quantity, line.total) for line in lines)
    candidates = Order.objects.filter(
        purchaser=user,
        state=OrderState.PENDING,
        discount=valid.discount if valid else None,
        created_on__gte=timezone.now() - PENDING_ORDER_HOLD,
    ).prefetch_related("lines")
    for order in candidates.order_by("-created_on", "-pk"):
        have = sorted(
            _line_key(line.product_id, line.quantity, line.total_price)
            for line in order.lines.all()
        )
        if have == wanted:
            return order
    return None


def check_out(*, user: User, ip_address: str, urls: PaymentUrls) -> CheckoutOutcome:
    """Turn the learner's cart into an order.

    Everything is checked again under locks: the products, the applied code (all the rules of
    ``validate_code``), and a B2B product's need for a code, which only a member of its
    contract does without (``check_member_runs``: they pay its price). A zero total is fulfilled now
    (the learner joins the contract with source "code" and is enrolled); a positive total
    returns the pending order and its payment form. Raises an EcommerceError subclass with the
    learner-facing reason; nothing is written then.
    """
    with transaction.atomic():
        basket = Basket.objects.select_for_update().filter(user=user).first()
        items = selectors.basket_items(basket) if basket is not None else []
        if basket is None or not items:
            raise EmptyBasket
        products = [item.product for item in items]
        runs = selectors.runs_by_product(products)
        if any(not p.is_active or p.pk not in runs for p in products):
            raise ProductUnavailable("A course in your cart is no longer available.")
        applied = basket.discounts.select_related("discount").order_by("pk").first()
        # The lock order (b2b.services.locking): the cart's contracts before the code, as
        # fulfilment attaches the learner to them.
        contract_ids = {run.b2b_contract_id for run in runs.values() if run.b2b_contract_id}
        if applied is not None and applied.discount.b2b_contract_id:
            contract_ids.add(applied.discount.b2b_contract_id)
        lock_contracts_to_join(contract_ids)
        valid = None
        if applied is not None:
            valid = validate_code(
                user=user, code=applied.discount.discount_code, products=products, lock=True
            )
        else:  # without a code, only a member may check out their contract's courses
            check_member_runs(user=user, runs=runs.values())
        lines = price_lines(items, valid)
        total = sum((line.total for line in lines), ZERO)
        discount = valid.discount if valid else None

        if total == ZERO:
            order = create_order(user=user, lines=lines, discount=discount)
            fulfil_order(order=order, source=MembershipSource.CODE)
            return CheckoutOutcome(order=order, titles=tuple(line.title for line in lines))

        ensure_payment_configured()
        reusable = _reusable_pending_order(user, lines, valid)
        cancel_pending_orders(user=user, keep=reusable)
        order = reusable or create_order(user=user, lines=lines, discount=discount)
        payment = payment_request(
            order=order,
            user=user,
            ip_address=ip_address,
            receipt_url=urls.receipt_url,
            cancel_url=urls.cancel_url,
            backoffice_url=urls.backoffice_url,
        )
        return CheckoutOutcome(
            order=order, payment=payment, titles=tuple(line.title for line in lines)
        )
