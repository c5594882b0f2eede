"""The learner's cart (basket): what is in it, the applied code, and what it costs.

A learner has one basket. Adding a product replaces the basket's content with that product and
drops any applied code (the product URL of the enrollment-codes CSV starts a fresh cart).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from courses.models import CourseRun
from ecommerce import selectors
from ecommerce.exceptions import CodeRefused, ProductUnavailable
from ecommerce.models import Basket, BasketDiscount, BasketItem, Discount, Product
from ecommerce.services.code_validation import ValidCode, member_refusal, validate_code
from ecommerce.services.pricing import ZERO, discounted_price
from users.models import User


@dataclass(frozen=True)
class CartLine:
    product: Product
    run: CourseRun | None
    quantity: int
    list_price: Decimal
    price: Decimal

    @property
    def is_b2b(self) -> bool:
        return self.run is not None and self.run.b2b_contract_id is not None

    @property
    def title(self) -> str:
        return product_title(self.product, self.run)

    @property
    def total(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine]
    discount: Discount | None  # the applied code, valid or not
    code_error: str | None  # why the applied code cannot be used now
    # No code is applied and the learner is a member of the contract of every B2B product in
    # the cart, open now (``member_refusal``): they check out at the products' prices.
    member_covered: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def requires_code(self) -> bool:
        """A B2B product is in the cart: it cannot be checked out without its code, unless the
        learner belongs to its contract."""
        return any(line.is_b2b for line in self.lines) and not self.member_covered

    @property
    def has_valid_code(self) -> bool:
        return self.discount is not None and self.code_error is None

    @property
    def list_total(self) -> Decimal:
        return sum((line.list_price * line.quantity for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)

    @property
    def discount_total(self) -> Decimal:
        return self.list_total - self.total

    @property
    def can_check_out(self) -> bool:
        if self.is_empty or self.code_error is not None:
            return False
        return self.has_valid_code or not self.requires_code


def product_title(product: Product, run: CourseRun | None = None) -> str:
    """What a learner calls the product: its course run's title."""
    if run is None:
        run = selectors.runs_by_product([product]).get(product.pk)
    if run is not None:
        return run.title
    return product.description or f"Product {product.pk}"


def _locked_basket(user: User) -> Basket:
    """The learner's basket, created if needed, locked until the transaction ends."""
    basket, _ = Basket.objects.get_or_create(user=user)
    return Basket.objects.select_for_update().get(pk=basket.pk)


def price_lines(items: list[BasketItem], valid: ValidCode | None) -> list[CartLine]:
    """Cart lines priced from the database; the code applies to the products it is linked to."""
    runs = selectors.runs_by_product(item.product for item in items)
    lines = []
    for item in items:
        applies = valid is not None and item.product_id in valid.product_ids
        discount = valid.discount if valid is not None and applies else None
        lines.append(
            CartLine(
                product=item.product,
                run=runs.get(item.product_id),
                quantity=item.quantity,
                list_price=item.product.price,
                price=discounted_price(list_price=item.product.price, discount=discount),
            )
        )
    return lines


def get_cart(*, user: User) -> Cart:
    """The learner's cart as it stands, with the applied code checked again (nothing written)."""
    basket = selectors.basket_of(user)
    if basket is None:
        return Cart(lines=[], discount=None, code_error=None)
    items = selectors.basket_items(basket)
    applied = basket.discounts.select_related("discount").order_by("pk").first()
    valid, error = None, None
    if applied is not None and items:
        try:
            valid = validate_code(
                user=user,
                code=applied.discount.discount_code,
                products=[item.product for item in items],
            )
        except CodeRefused as exc:
            error = str(exc)
    lines = price_lines(items, valid)
    member_covered = (
        applied is None
        and any(line.is_b2b for line in lines)
        and member_refusal(user=user, runs=[line.run for line in lines if line.run]) is None
    )
    return Cart(
        lines=lines,
        discount=applied.discount if applied is not None else None,
        code_error=error,
        member_covered=member_covered,
    )


@transaction.atomic
def add_product_to_basket(*, user: User, product_id: int | str | None) -> Product:
    """Replace the basket's content with the product and drop any applied code.

    Raises ProductUnavailable for an unknown or inactive product.
    """
    try:
        product_id = int(product_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ProductUnavailable("This link does not name a product.") from None
    product = selectors.active_product(product_id)
    if product is None or not selectors.runs_by_product([product]):
        raise ProductUnavailable
    basket = _locked_basket(user)
    basket.discounts.all().delete()
    basket.items.exclude(product=product).delete()
    BasketItem.objects.update_or_create(basket=basket, product=product, defaults={"quantity": 1})
    basket.save(update_fields=["updated_on"])
    return product


@transaction.atomic
def apply_code_to_basket(*, user: User, code: str) -> Discount:
    """Apply ``code`` to the learner's cart, replacing any code applied before.

    Raises a CodeRefused subclass (with its own message) when the code cannot be used for this
    cart; the previously applied code then stays as it was.
    """
    basket = _locked_basket(user)
    items = selectors.basket_items(basket)
    if not items:
        raise CodeRefused("Your cart is empty: add a course before applying a code.")
    valid = validate_code(user=user, code=code, products=[item.product for item in items])
    basket.discounts.exclude(discount=valid.discount).delete()
    BasketDiscount.objects.get_or_create(
        basket=basket, discount=valid.discount, defaults={"redeemed_by": user}
    )
    return valid.discount


@transaction.atomic
def remove_code_from_basket(*, user: User) -> None:
    basket = _locked_basket(user)
    basket.discounts.all().delete()


def clear_basket(*, user: User, product_ids: list[int], discount_id: int | None) -> None:
    """Take bought products (and the code used) out of the learner's basket."""
    BasketItem.objects.filter(basket__user=user, product_id__in=product_ids).delete()
    if discount_id is not None:
        BasketDiscount.objects.filter(basket__user=user, discount_id=discount_id).delete()
