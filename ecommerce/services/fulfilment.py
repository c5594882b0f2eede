"""Orders: creating them from a priced cart, fulfilling them, and closing the unpaid ones.

Fulfilment is all or nothing: the order is marked fulfilled, the code's redemption recorded, the
learner attached to the contract (``attach_learner``, which enforces the cap under the contract's
row lock) and enrolled (``enroll_learner_in_runs``: the same statements for any number of
courses) in one transaction; if any step refuses, nothing of it is written.
"""

import logging

from django.db import transaction
from django.utils import timezone

from b2b.enums import MembershipSource
from b2b.exceptions import MembershipRefused
from b2b.services.memberships import attach_learner
from courses.services.enrollments import enroll_learner_in_runs, enrollment_mode
from ecommerce import selectors
from ecommerce.constants import ORDER_REFERENCE_PREFIX
from ecommerce.enums import OrderState
from ecommerce.exceptions import ContractRefused, ProductUnavailable
from ecommerce.models import Discount, DiscountRedemption, Line, Order
from ecommerce.services.baskets import CartLine, clear_basket
from ecommerce.services.pricing import ZERO
from users.models import User

log = logging.getLogger(__name__)


def reference_for(order: Order) -> str:
    return f"{ORDER_REFERENCE_PREFIX}-{order.pk}"


def order_id_from_reference(reference: str) -> int | None:
    prefix, _, number = (reference or "").rpartition("-")
    if prefix != ORDER_REFERENCE_PREFIX or not number.isdigit():
        return None
    return int(number)


def create_order(*, user: User, lines: list[CartLine], discount: Discount | None) -> Order:
    """A pending order for the priced cart lines (prices as the server computed them)."""
    total = sum((line.total for line in lines), ZERO)
    order = Order.objects.create(
        purchaser=user,
        state=OrderState.PENDING,
        total_price_paid=total,
        discount=discount,
        placed_with_code=discount is not None,
    )
    order.reference_number = reference_for(order)
    order.save(update_fields=["reference_number", "updated_on"])
    Line.objects.bulk_create(
        Line(
            order=order,
            product=line.product,
            quantity=line.quantity,
            list_price=line.list_price,
            total_price=line.total,
        )
        for line in lines
    )
    return order


def fulfil_order(*, order: Order, source: MembershipSource) -> Order:
    """Fulfil a pending order: redemption, contract membership and enrollments.

    Call it inside a transaction holding the row lock of the order's code. Raises
    ContractRefused (a CheckoutRefused) when the contract refuses the learner (full, inactive,
    outside its dates); none of this function's writes are then kept.
    """
    with transaction.atomic():
        lines = list(order.lines.select_related("product"))
        runs = selectors.runs_by_product(line.product for line in lines)
        if any(line.product_id not in runs for line in lines):
            raise ProductUnavailable("A course in this order is no longer available.")
        order.state = OrderState.FULFILLED
        order.state_reason = ""
        order.refund_due, order.refund_reason = False, ""  # a repeated payment answer found room
        order.save(
            update_fields=["state", "state_reason", "refund_due", "refund_reason", "updated_on"]
        )
        contract_ids = {run.b2b_contract_id for run in runs.values() if run.b2b_contract_id}
        if order.discount_id is not None:
            DiscountRedemption.objects.create(
                discount_id=order.discount_id,
                redeemed_by=order.purchaser,
                redeemed_order=order,
            )
            code = order.discount
            if code is not None and code.b2b_contract_id:
                contract_ids.add(code.b2b_contract_id)
        for contract_id in sorted(contract_ids):
            try:
                attach_learner(user=order.purchaser, contract_id=contract_id, source=source)
            except MembershipRefused as exc:
                raise ContractRefused(f"{exc}. Your enrollment could not be completed.") from exc
        enroll_learner_in_runs(
            user=order.purchaser,
            modes={
                runs[line.product_id]: enrollment_mode(
                    run=runs[line.product_id], price=line.total_price
                )
                for line in lines
            },
        )
        clear_basket(
            user=order.purchaser,
            product_ids=[line.product_id for line in lines],
            discount_id=order.discount_id,
        )
    log.info("Order %s fulfilled for user %s", order.pk, order.purchaser_id)
    return order


def close_order(*, order: Order, state: OrderState, reason: str, refund_reason: str = "") -> Order:
    """Mark an unfulfilled order declined, canceled or errored; its code is released.

    ``reason`` is for the learner. ``refund_reason``, for a paid order, marks a refund due and
    tells staff why (the Django admin lists orders with a refund due).
    """
    order.state = state
    order.state_reason = reason[:255]
    order.refund_due = bool(refund_reason)
    order.refund_reason = refund_reason[:255]
    order.save(update_fields=["state", "state_reason", "refund_due", "refund_reason", "updated_on"])
    return order


def cancel_pending_orders(*, user: User, keep: Order | None = None) -> int:
    """Cancel the learner's other pending orders (a new checkout replaces them)."""
    pending = Order.objects.filter(purchaser=user, state=OrderState.PENDING)
    if keep is not None:
        pending = pending.exclude(pk=keep.pk)
    return pending.update(
        state=OrderState.CANCELED,
        state_reason="Replaced by a newer checkout.",
        updated_on=timezone.now(),
    )
