"""Prices are computed here, from the database, and nowhere else (never from the request)."""

from decimal import ROUND_HALF_UP, Decimal

from ecommerce.enums import DiscountType
from ecommerce.exceptions import CodeInactive
from ecommerce.models import Discount

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def discounted_price(*, list_price: Decimal, discount: Discount | None) -> Decimal:
    """The price of one item once ``discount`` applies: never below 0 nor above the list price.
    ``discount`` comes with its terms (``ecommerce.selectors.with_code_terms``): a contract's
    code sells at its contract's price, read from one row, not from the code."""
    list_price = Decimal(list_price).quantize(CENT)
    if discount is None:
        return list_price
    if discount.price is None:  # a contract code before its terms exist: never sold at a guess
        raise CodeInactive
    amount = Decimal(discount.price)
    if discount.discount_type == DiscountType.FIXED_PRICE:
        price = amount
    elif discount.discount_type == DiscountType.DOLLARS_OFF:
        price = list_price - amount
    elif discount.discount_type == DiscountType.PERCENT_OFF:
        price = list_price * (Decimal(100) - amount) / Decimal(100)
    else:  # an unknown type never lowers the price
        price = list_price
    price = min(max(price, ZERO), list_price)
    return price.quantize(CENT, rounding=ROUND_HALF_UP)
