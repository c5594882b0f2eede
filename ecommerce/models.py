"""Products, enrollment (discount) codes, baskets, orders and payment transactions."""

import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from config.models import TimestampedModel
from config.money import format_money
from ecommerce.enums import DiscountType, OrderState, PaymentType, RedemptionType, TransactionType


class Product(TimestampedModel):
    """Something sellable: today always a CourseRun. One active product per sold object."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    purchasable_object = GenericForeignKey("content_type", "object_id")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(is_active=True),
                name="ecommerce_product_one_active_per_object",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=Decimal("0")), name="ecommerce_product_price_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description} {format_money(self.price)}"


class Discount(TimestampedModel):
    """A discount code. Enrollment codes of B2B contracts are discounts tied to the contract.

    A contract's codes sell at the price and between the dates of the contract's one
    ``ContractCodeTerms`` row; their own ``amount`` and dates are empty (a check constraint
    says so), so a price change writes one row whatever the number of codes. Other codes carry
    their own. Read what a code sells for, and when, through
    ``ecommerce.selectors.with_code_terms`` (the ``price``, ``usable_from`` and
    ``usable_until`` it annotates), never from the columns.
    """

    discount_code = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Empty for a contract's enrollment codes: they sell at the contract's price.",
    )
    discount_type = models.CharField(max_length=30, choices=DiscountType.choices)
    redemption_type = models.CharField(max_length=30, choices=RedemptionType.choices)
    payment_type = models.CharField(max_length=30, choices=PaymentType.choices)
    is_bulk = models.BooleanField(default=False)
    is_active = models.BooleanField(
        default=True, help_text="Inactive codes are kept but cannot be redeemed."
    )
    activation_date = models.DateTimeField(null=True, blank=True)
    expiration_date = models.DateTimeField(null=True, blank=True)
    b2b_contract = models.ForeignKey(
        "b2b.ContractPage",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="discounts",
        help_text="Set on the enrollment codes of a B2B contract.",
    )
    products = models.ManyToManyField(
        Product, through="DiscountProduct", related_name="discounts", blank=True
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")), name="ecommerce_discount_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(discount_type=DiscountType.PERCENT_OFF)
                | Q(amount__lte=Decimal("100")),
                name="ecommerce_discount_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(activation_date__isnull=True)
                | Q(expiration_date__isnull=True)
                | Q(activation_date__lte=models.F("expiration_date")),
                name="ecommerce_discount_activation_before_expiration",
            ),
            models.CheckConstraint(
                condition=Q(
                    b2b_contract__isnull=True,
                    amount__isnull=False,
                )
                | Q(
                    b2b_contract__isnull=False,
                    amount__isnull=True,
                    activation_date__isnull=True,
                    expiration_date__isnull=True,
                ),
                name="ecommerce_discount_terms_of_contract_codes",
                violation_error_message="A contract's code takes its price and dates from the "
                "contract: leave its amount and dates empty. Any other code needs an amount.",
            ),
        ]
        indexes = [models.Index(fields=["b2b_contract", "is_active"])]

    # Annotated by ``ecommerce.selectors.with_code_terms``, not stored: what the code sells
    # for and the instants it may be used between (None: open on that side).
    price: Decimal | None
    usable_from: datetime | None
    usable_until: datetime | None

    def __str__(self) -> str:
        return self.discount_code

    @staticmethod
    def new_code() -> str:
        return str(uuid.uuid4())


class ContractCodeTerms(models.Model):
    """The price and dates every enrollment code of one B2B contract is used at: one row per
    contract, written by b2b's code reconciliation (``bulk_codes.set_terms``) when the
    contract's price or dates change. The codes keep none of it themselves."""

    contract = models.OneToOneField(
        "b2b.ContractPage",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="code_terms",
    )
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    activation_date = models.DateTimeField(null=True, blank=True)
    expiration_date = models.DateTimeField(null=True, blank=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "contract code terms"
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")),
                name="ecommerce_codeterms_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(activation_date__isnull=True)
                | Q(expiration_date__isnull=True)
                | Q(activation_date__lte=models.F("expiration_date")),
                name="ecommerce_codeterms_activation_before_expiration",
            ),
        ]

    def __str__(self) -> str:
        return f"codes of contract {self.contract_id}: {format_money(self.amount)}"


class DiscountProduct(models.Model):
    discount = models.ForeignKey(Discount, on_delete=models.CASCADE, related_name="product_links")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="discount_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["discount", "product"], name="ecommerce_discountproduct_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.discount_id} -> {self.product_id}"


class Basket(TimestampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="basket"
    )

    def __str__(self) -> str:
        return f"basket of {self.user_id}"


class BasketItem(TimestampedModel):
    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="basket_items")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["basket", "product"], name="ecommerce_basketitem_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="ecommerce_basketitem_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} x{self.quantity}"


class BasketDiscount(TimestampedModel):
    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="discounts")
    discount = models.ForeignKey(Discount, on_delete=models.CASCADE, related_name="in_baskets")
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["basket", "discount"], name="ecommerce_basketdiscount_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.discount_id} in {self.basket_id}"


class Order(TimestampedModel):
    purchaser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    state = models.CharField(max_length=20, choices=OrderState.choices, default=OrderState.PENDING)
    total_price_paid = models.DecimalField(max_digits=10, decimal_places=2)
    reference_number = models.CharField(max_length=255, blank=True)
    discount = models.ForeignKey(
        Discount,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        help_text="The code applied at checkout. A pending order holds a one-time code.",
    )
    placed_with_code = models.BooleanField(
        default=False,
        help_text="Whether the order was placed with a code, which stays true if the code is "
        "deleted since (an order without one is a contract member's purchase).",
    )
    state_reason = models.CharField(
        max_length=255,
        blank=True,
        help_text="Why the order was declined, canceled or could not be completed.",
    )
    refund_due = models.BooleanField(
        default=False,
        help_text="A payment was received but the order could not be fulfilled: refund it, then "
        "mark the order refunded and clear this box.",
    )
    refund_reason = models.CharField(
        max_length=255, blank=True, help_text="Why the payment must be refunded (for staff)."
    )

    class Meta:
        ordering = ["-created_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_price_paid__gte=Decimal("0")),
                name="ecommerce_order_total_not_negative",
            )
        ]
        indexes = [models.Index(fields=["purchaser", "state"])]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.state})"


class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lines")
    quantity = models.PositiveIntegerField(default=1)
    list_price = models.DecimalField(max_digits=10, decimal_places=2)
    total_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="ecommerce_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} on {self.order_id}"


class DiscountRedemption(models.Model):
    discount = models.ForeignKey(Discount, on_delete=models.PROTECT, related_name="redemptions")
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="discount_redemptions"
    )
    redeemed_order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="redemptions")
    redemption_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-redemption_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["discount", "redeemed_order"], name="ecommerce_redemption_once_per_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.discount_id} by {self.redeemed_by_id}"


class Transaction(TimestampedModel):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="transactions")
    transaction_id = models.CharField(max_length=255, unique=True)
    transaction_type = models.CharField(
        max_length=20, choices=TransactionType.choices, default=TransactionType.PAYMENT
    )
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    reason = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.transaction_id


class ContractCodeCensus(models.Model):
    """How many codes of a B2B contract share one state, written as changes (deltas).

    On PostgreSQL, triggers on the code tables add a row per (contract, product, state) a
    statement changed: +n for codes that entered that state, -n for codes that left it. They
    run inside the statement that writes the codes, whoever writes them. The sum of ``n`` per
    state (product, active, redeemed, redemption type; the price and dates are the contract's
    ``ContractCodeTerms``, not a code's) is then the number of codes in it, so reconciliation
    tells that a contract's codes already match its terms by reading a few rows per product
    instead of every code
    (``ecommerce.services.contract_codes.reads.contract_code_census``). Reconciliation folds the
    rows of a
    contract into one per state. No foreign keys: the rows are book-keeping and never lock what they
    count. SQLite has no triggers here; the census stays empty and is not used there.
    """

    contract_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    is_active = models.BooleanField()
    redeemed = models.BooleanField()
    redemption_type = models.CharField(max_length=30)
    n = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["contract_id"], name="ecommerce_census_contract")]

    def __str__(self) -> str:
        return f"contract {self.contract_id} product {self.product_id}: {self.n:+d}"
