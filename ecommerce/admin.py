from django.contrib import admin

from ecommerce import selectors
from ecommerce.models import (
    Basket,
    BasketDiscount,
    BasketItem,
    Discount,
    DiscountProduct,
    DiscountRedemption,
    Line,
    Order,
    Product,
    Transaction,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["id", "description", "price", "is_active", "content_type", "object_id"]
    list_filter = ["is_active", "content_type"]
    search_fields = ["description"]


class DiscountProductInline(admin.TabularInline):
    model = DiscountProduct
    raw_id_fields = ["product"]
    extra = 0


@admin.register(Discount)
class DiscountAdmin(admin.ModelAdmin):
    list_display = [
        "discount_code",
        "discount_type",
        "sells_at",
        "redemption_type",
        "payment_type",
        "is_bulk",
        "is_active",
        "b2b_contract",
    ]
    list_filter = ["discount_type", "redemption_type", "payment_type", "is_bulk", "is_active"]
    search_fields = ["discount_code"]
    raw_id_fields = ["b2b_contract"]
    list_select_related = ["b2b_contract"]
    inlines = [DiscountProductInline]
    readonly_fields = ["sells_at", "usable_between"]

    def get_queryset(self, request):
        return selectors.with_code_terms(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        # A contract's code takes its price and dates from the contract's terms row: its own
        # columns stay empty (a check constraint), and its contract is its for good.
        if obj is not None and obj.b2b_contract_id is not None:
            return [
                *self.readonly_fields,
                "amount",
                "activation_date",
                "expiration_date",
                "b2b_contract",
            ]
        return self.readonly_fields

    @admin.display(description="Sells at")
    def sells_at(self, obj: Discount) -> str:
        price = getattr(obj, "price", None)
        if price is None:
            return "-"
        if obj.b2b_contract_id is not None:
            return f"{price} (the contract's price)"
        return str(price)

    @admin.display(description="Usable")
    def usable_between(self, obj: Discount) -> str:
        start, end = getattr(obj, "usable_from", None), getattr(obj, "usable_until", None)
        return f"from {start or 'any time'} until {end or 'any time'}"


@admin.register(DiscountRedemption)
class DiscountRedemptionAdmin(admin.ModelAdmin):
    list_display = ["discount", "redeemed_by", "redeemed_order", "redemption_date"]
    search_fields = ["discount__discount_code", "redeemed_by__email"]
    raw_id_fields = ["discount", "redeemed_by", "redeemed_order"]
    list_select_related = ["discount", "redeemed_by"]


class BasketItemInline(admin.TabularInline):
    model = BasketItem
    raw_id_fields = ["product"]
    extra = 0


class BasketDiscountInline(admin.TabularInline):
    model = BasketDiscount
    raw_id_fields = ["discount", "redeemed_by"]
    extra = 0


@admin.register(Basket)
class BasketAdmin(admin.ModelAdmin):
    list_display = ["user", "created_on", "updated_on"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    inlines = [BasketItemInline, BasketDiscountInline]


class LineInline(admin.TabularInline):
    model = Line
    raw_id_fields = ["product"]
    extra = 0


class TransactionInline(admin.TabularInline):
    model = Transaction
    extra = 0
    readonly_fields = ["transaction_id", "transaction_type", "amount", "reason", "data"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders; "Refund due" lists the paid orders that could not be fulfilled."""

    list_display = [
        "id",
        "purchaser",
        "state",
        "total_price_paid",
        "created_on",
        "refund_due",
        "refund_reason",
    ]
    list_filter = ["refund_due", "state"]
    search_fields = ["purchaser__email", "reference_number"]
    raw_id_fields = ["purchaser", "discount"]
    list_select_related = ["purchaser"]
    inlines = [LineInline, TransactionInline]
