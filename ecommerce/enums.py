from django.db import models


class DiscountType(models.TextChoices):
    PERCENT_OFF = "percent-off", "Percent off"
    DOLLARS_OFF = "dollars-off", "Dollars off"
    FIXED_PRICE = "fixed-price", "Fixed price"


class RedemptionType(models.TextChoices):
    ONE_TIME = "one-time", "One time"
    ONE_TIME_PER_USER = "one-time-per-user", "One time per user"
    UNLIMITED = "unlimited", "Unlimited"


class PaymentType(models.TextChoices):
    SALES = "sales", "Sales"
    MARKETING = "marketing", "Marketing"
    FINANCIAL_ASSISTANCE = "financial-assistance", "Financial assistance"
    CUSTOMER_SUPPORT = "customer-support", "Customer support"
    STAFF = "staff", "Staff"
    LEGACY = "legacy", "Legacy"


class OrderState(models.TextChoices):
    PENDING = "pending", "Pending"
    FULFILLED = "fulfilled", "Fulfilled"
    DECLINED = "declined", "Declined"
    CANCELED = "canceled", "Canceled"
    ERRORED = "errored", "Errored"
    REFUNDED = "refunded", "Refunded"


class TransactionType(models.TextChoices):
    PAYMENT = "payment", "Payment"
    REFUND = "refund", "Refund"
