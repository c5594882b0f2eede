"""Payments through CyberSource Secure Acceptance (mitol-django-payment-gateway).

``payment_request`` signs the order's fields for the hosted payment form (the learner's browser
posts them to CyberSource). ``process_payment_response`` handles what CyberSource posts back to
the receipt (or cancel) address: the signature is verified with our key first; ACCEPT fulfils the
order, or, when it cannot be fulfilled (the contract is full, say), marks it errored with a
refund due for staff; DECLINE, CANCEL and ERROR decline it, which releases its code; REVIEW leaves
it pending.
"""

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from mitol.payment_gateway.dataclasses import CartItem, LookupCartItem, ProcessorResponse
from mitol.payment_gateway.dataclasses import Order as GatewayOrder

from b2b.enums import MembershipSource
from b2b.services.memberships import lock_contracts_to_join
from config.money import format_money
from ecommerce import selectors
from ecommerce.enums import OrderState, TransactionType
from ecommerce.exceptions import (
    EcommerceError,
    InvalidPaymentResponse,
    OrderNotFound,
    PaymentNotConfigured,
)
from ecommerce.models import Discount, Order, Transaction
from ecommerce.services.code_validation import check_member_runs, validate_code
from ecommerce.services.fulfilment import close_order, fulfil_order, order_id_from_reference
from users.models import User

if TYPE_CHECKING:
    from mitol.payment_gateway.api import PaymentGateway

log = logging.getLogger(__name__)

# Fields the processor must have signed for a response to be believed.
REQUIRED_SIGNED_FIELDS = frozenset({"decision", "req_reference_number", "req_amount"})

DECLINE_REASONS = {
    ProcessorResponse.STATE_DECLINED: "Your payment was declined",
    ProcessorResponse.STATE_CANCELLED: "You canceled the payment",
    ProcessorResponse.STATE_ERROR: "The payment processor reported an error",
}


@dataclass(frozen=True)
class PaymentRequest:
    """What the learner's browser posts to the payment processor."""

    url: str
    method: str
    fields: dict[str, str]


# mitol's gateway module imports the CyberSource and Stripe SDKs: about half a second and tens of
# megabytes that every process would pay at start-up (the URL configuration imports the views
# that import this module). It is imported on the first payment instead.
GATEWAY_CLASS = "mitol.payment_gateway.api.PaymentGateway"


def _payment_gateway() -> "type[PaymentGateway]":
    """mitol's ``PaymentGateway``, imported the first time a payment needs it."""
    with warnings.catch_warnings():
        # The CyberSource SDK imports pkg_resources, which warns that it is deprecated.
        warnings.filterwarnings(
            "ignore", message="pkg_resources is deprecated", category=UserWarning
        )
        return import_string(GATEWAY_CLASS)


def _gateway() -> str:
    return str(settings.ECOMMERCE_DEFAULT_PAYMENT_GATEWAY)


def payment_is_configured() -> bool:
    return all(
        getattr(settings, f"MITOL_PAYMENT_GATEWAY_CYBERSOURCE_{name}", None)
        for name in ("SECURE_ACCEPTANCE_URL", "ACCESS_KEY", "PROFILE_ID", "SECURITY_KEY")
    )


def ensure_payment_configured() -> None:
    if not payment_is_configured():
        raise PaymentNotConfigured


def payment_request(
    *,
    order: Order,
    user: User,
    ip_address: str,
    receipt_url: str,
    cancel_url: str,
    backoffice_url: str | None = None,
) -> PaymentRequest:
    """The signed Secure Acceptance fields for ``order`` (its stored, server-computed prices)."""
    ensure_payment_configured()
    items: list[CartItem | LookupCartItem] = [
        CartItem(
            code="course-run",
            name=line.product.description or f"Product {line.product_id}",
            sku=str(line.product_id),
            unitprice=(line.total_price / line.quantity).quantize(Decimal("0.01")),
            quantity=line.quantity,
            taxable=Decimal("0.00"),
        )
        for line in order.lines.select_related("product").order_by("pk")
    ]
    checkout = _payment_gateway().start_payment(
        _gateway(),
        GatewayOrder(
            username=user.email,
            email=user.email,
            ip_address=ip_address or "0.0.0.0",
            reference=order.reference_number,
            items=items,
        ),
        receipt_url,
        cancel_url,
        backoffice_post_url=backoffice_url,
    )
    fields = {key: str(value) for key, value in checkout["payload"].items()}
    return PaymentRequest(url=checkout["url"], method=checkout["method"], fields=fields)


class _ProcessorPost:
    """The shape of request the gateway reads a processor's response from."""

    method = "POST"

    def __init__(self, data: Mapping[str, str]):
        self.POST = data


def verify_payment_response(data: Mapping[str, str]) -> ProcessorResponse:
    """Check the response's signature with our key; raises InvalidPaymentResponse."""
    ensure_payment_configured()
    signed = set((data.get("signed_field_names") or "").split(","))
    if not signed >= REQUIRED_SIGNED_FIELDS or not data.get("signature"):
        raise InvalidPaymentResponse
    post = _ProcessorPost(data)
    try:
        valid = _payment_gateway().validate_processor_response(_gateway(), post)
    except (KeyError, ValueError, TypeError):  # a signed field is missing
        valid = False
    if valid is not True:
        raise InvalidPaymentResponse
    return _payment_gateway().get_formatted_response(_gateway(), post)


def _record_transaction(order: Order, response: ProcessorResponse, data: Mapping[str, str]) -> None:
    if not response.transaction_id:
        return
    accepted = response.state == ProcessorResponse.STATE_ACCEPTED
    Transaction.objects.get_or_create(
        transaction_id=response.transaction_id,
        defaults={
            "order": order,
            "transaction_type": TransactionType.PAYMENT,
            "amount": (_amount(data) or Decimal("0.00")) if accepted else Decimal("0.00"),
            "reason": f"{response.state}: {response.message}"[:255],
            "data": {key: data.get(key) for key in data},
        },
    )


def _amount(data: Mapping[str, str]) -> Decimal | None:
    try:
        return Decimal(data.get("req_amount") or "")
    except InvalidOperation:
        return None


def _fulfil_paid_order(order: Order) -> None:
    """Fulfil a paid order, or mark it errored with a refund due.

    The order's code is checked again, even if it was deactivated since checkout (the learner
    paid with it). A code deleted since (by staff: a reconciliation never deletes a code a
    pending order holds) leaves nothing to check: the contract's admission rule, which
    ``attach_learner`` applies during fulfilment, decides alone. An order placed without a code
    was a member's purchase of their contract's course: the member rule (``check_member_runs``)
    is checked again, so a learner detached since is refunded rather than let back in.
    """
    try:
        with transaction.atomic():
            if order.discount is not None:
                products = [line.product for line in order.lines.select_related("product")]
                validate_code(
                    user=order.purchaser,
                    code=order.discount.discount_code,
                    products=products,
                    lock=True,
                    holding_order=order,
                )
            elif not order.placed_with_code:  # a member's: still a member, contract open
                runs = selectors.runs_by_product(
                    line.product for line in order.lines.select_related("product")
                )
                check_member_runs(user=order.purchaser, runs=runs.values())
            fulfil_order(order=order, source=MembershipSource.PURCHASE)
    except EcommerceError as exc:
        log.error("Paid order %s could not be fulfilled: %s", order.pk, exc)
        close_order(
            order=order,
            state=OrderState.ERRORED,
            reason=f"Your payment was received but you could not be enrolled: {exc} "
            "Contact support for a refund.",
            refund_reason=f"Paid {format_money(order.total_price_paid)} but not enrolled: {exc}",
        )


@transaction.atomic
def _apply_response(order_id: int, response: ProcessorResponse, data: Mapping[str, str]) -> Order:
    # The lock order (b2b.services.locking), as checkout takes it: the order's contracts, then
    # its code, then the order.
    lock_contracts_to_join(selectors.contract_ids_of_order(order_id))
    discount_id = Order.objects.filter(pk=order_id).values_list("discount_id", flat=True).first()
    if discount_id is not None:
        Discount.objects.select_for_update(no_key=True).filter(pk=discount_id).first()
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("purchaser", "discount")
        .get(pk=order_id)
    )
    _record_transaction(order, response, data)
    if response.state == ProcessorResponse.STATE_ACCEPTED:
        if order.state in (OrderState.FULFILLED, OrderState.REFUNDED):
            return order  # a repeated answer: the order is settled, one way or the other
        paid = _amount(data)
        if paid != order.total_price_paid:
            log.error("Order %s: paid %s, expected %s", order.pk, paid, order.total_price_paid)
            paid_text = "an unreadable amount" if paid is None else format_money(paid)
            return close_order(
                order=order,
                state=OrderState.ERRORED,
                reason="The amount paid does not match the order. Contact support.",
                refund_reason=(
                    f"Paid {paid_text} for an order of {format_money(order.total_price_paid)}"
                ),
            )
        _fulfil_paid_order(order)
    elif response.state == ProcessorResponse.STATE_REVIEW:
        if order.state == OrderState.PENDING:
            order.state_reason = "Your payment is being reviewed by the payment processor."
            order.save(update_fields=["state_reason", "updated_on"])
    elif order.state == OrderState.PENDING:
        reason = DECLINE_REASONS.get(response.state, DECLINE_REASONS["ERROR"])
        detail = f" ({response.message})" if response.message else ""
        close_order(order=order, state=OrderState.DECLINED, reason=f"{reason}{detail}.")
    return order


def process_payment_response(*, data: Mapping[str, str]) -> Order:
    """Verify and apply a response posted by the payment processor; safe to receive twice.

    Raises InvalidPaymentResponse (bad or missing signature; nothing is changed) or
    OrderNotFound.
    """
    response = verify_payment_response(data)
    order_id = order_id_from_reference(data.get("req_reference_number", ""))
    if order_id is None or not Order.objects.filter(pk=order_id).exists():
        raise OrderNotFound
    return _apply_response(order_id, response, data)
