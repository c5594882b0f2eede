"""Read queries of the cart, orders and dashboard, with their joins; a fixed number of queries each.

Every query that returns a learner's data is filtered by that learner: one learner never sees
another's cart or orders.

Also the one lookup of a course run's product (``run_products``) and what a contract's code sells
for (``code_terms``). The set-based reads of B2B contracts' codes that b2b's listings, codes CSV
and reconciliation plans use are the door's, in ``ecommerce.services.contract_codes.reads``."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from courses.models import CourseRun, CourseRunEnrollment
from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import OrderState, RedemptionType, TransactionType
from ecommerce.models import (
    Basket,
    BasketItem,
    ContractCodeTerms,
    Discount,
    DiscountRedemption,
    Line,
    Order,
    Product,
    Transaction,
)
from users.models import User


def _contract_terms(column: str, contract_ref: str) -> Subquery:
    return Subquery(
        ContractCodeTerms.objects.filter(contract_id=OuterRef(contract_ref)).values(column)[:1]
    )


def code_terms(discount_ref: str = "") -> dict[str, Coalesce]:
    """What a code sells for (``price``) and the instants it may be used between
    (``usable_from``, ``usable_until``; None: open on that side), as expressions to annotate a
    query of codes with, or of rows referring to a code through ``discount_ref`` ("discount"
    for its product links). The one place that says where they come from: a contract's code
    reads its contract's ``ContractCodeTerms`` row (its own columns are empty), any other code
    its own columns. A contract code whose contract has no terms row yet has no price."""
    prefix = f"{discount_ref}__" if discount_ref else ""
    contract = f"{prefix}b2b_contract_id"
    return {
        "price": Coalesce(F(f"{prefix}amount"), _contract_terms("amount", contract)),
        "usable_from": Coalesce(
            F(f"{prefix}activation_date"), _contract_terms("activation_date", contract)
        ),
        "usable_until": Coalesce(
            F(f"{prefix}expiration_date"), _contract_terms("expiration_date", contract)
        ),
    }


def with_code_terms(codes: QuerySet[Discount]) -> QuerySet[Discount]:
    """``codes``, each with its ``price``, ``usable_from`` and ``usable_until`` (``code_terms``)."""
    return codes.annotate(**code_terms())


def pending_orders() -> QuerySet[Order]:
    """The orders at the payment processor, however old: what "a pending order holds the code"
    is built on, here and in ``ecommerce.services.contract_codes.reads``."""
    return Order.objects.filter(state=OrderState.PENDING)


def course_run_type() -> ContentType:
    """The content type of what products sell: a course run (Django caches it)."""
    return ContentType.objects.get_for_model(CourseRun)


def run_products(run_ids: Iterable[int] | QuerySet) -> QuerySet[Product]:
    """The active products of these runs (ids, or a query of ids): one per run at most."""
    return Product.objects.filter(
        content_type=course_run_type(), object_id__in=run_ids, is_active=True
    )


def runs_by_product(products: Iterable[Product]) -> dict[int, CourseRun]:
    """Product id -> the course run it sells (with course and contract), in one query."""
    products = list(products)
    run_type = course_run_type()
    run_ids = {p.object_id for p in products if p.content_type_id == run_type.pk}
    runs = CourseRun.objects.select_related("course", "b2b_contract").in_bulk(run_ids)
    return {
        p.pk: runs[p.object_id]
        for p in products
        if p.content_type_id == run_type.pk and p.object_id in runs
    }


def contract_ids_of_order(order_id: int) -> set[int]:
    """The B2B contracts an order touches: its code's, and those of the runs it sells."""
    code_contract = (
        Order.objects.filter(pk=order_id)
        .values_list("discount__b2b_contract_id", flat=True)
        .first()
    )
    runs = runs_by_product(Product.objects.filter(lines__order_id=order_id).distinct())
    ids = {run.b2b_contract_id for run in runs.values() if run.b2b_contract_id}
    return ids | ({code_contract} if code_contract else set())


def basket_of(user: User) -> Basket | None:
    return Basket.objects.filter(user=user).first()


def basket_items(basket: Basket) -> list[BasketItem]:
    return list(basket.items.select_related("product").order_by("pk"))


def active_product(product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id, is_active=True).first()


def orders_of(user: User) -> QuerySet[Order]:
    """The learner's orders, newest first, with their lines and products."""
    return (
        Order.objects.filter(purchaser=user)
        .select_related("discount")
        .prefetch_related(
            Prefetch("lines", queryset=Line.objects.select_related("product").order_by("pk"))
        )
        .order_by("-created_on", "-pk")
    )


def order_of(user: User, order_id: int) -> Order | None:
    """One of the learner's orders; None for an order that is not theirs or does not exist."""
    return (
        orders_of(user).prefetch_related("transactions", "redemptions").filter(pk=order_id).first()
    )


def order_rows(order: Order) -> list[dict]:
    """The order's lines with the title and id of the course run each one bought."""
    lines = list(order.lines.all())
    runs = runs_by_product(line.product for line in lines)
    rows = []
    for line in lines:
        run = runs.get(line.product_id)
        rows.append(
            {
                "line": line,
                "title": run.title if run else (line.product.description or str(line.product)),
                "courseware_id": run.courseware_id if run else "",
            }
        )
    return rows


def enrollments_of(user: User) -> list[CourseRunEnrollment]:
    """The learner's active enrollments, B2B runs included, newest first."""
    return list(
        CourseRunEnrollment.objects.filter(user=user, active=True)
        .select_related("run__course", "run__b2b_contract")
        .order_by("-created_on", "-pk")
    )


def contract_runs_not_enrolled(user: User, contract_ids: list[int]) -> list[CourseRun]:
    """Live runs of these contracts the learner has no active enrollment in."""
    enrolled = CourseRunEnrollment.objects.filter(user=user, run_id=OuterRef("pk"), active=True)
    return list(
        CourseRun.objects.filter(b2b_contract_id__in=contract_ids, live=True)
        .filter(~Exists(enrolled))
        .select_related("course", "b2b_contract")
        .order_by("b2b_contract_id", "title", "pk")
    )


def pending_holds(
    discount_id: int, *, since: datetime, exclude_user: User | None = None
) -> QuerySet[Order]:
    """Recent pending orders that hold this code (a payment may still come back for them)."""
    holds = pending_orders().filter(discount_id=discount_id, created_on__gte=since)
    if exclude_user is not None:
        holds = holds.exclude(purchaser=exclude_user)
    return holds


def product_cart_url(product_id: int) -> str:
    """The address that puts the product in the learner's cart."""
    return f"{settings.SITE_BASE_URL}{CART_ADD_PATH}?product_id={product_id}"


@dataclass(frozen=True)
class RunProduct:
    """The active product of a course run."""

    id: int
    price: Decimal


def active_products_by_run(run_ids: Iterable[int] | QuerySet) -> dict[int, RunProduct]:
    """Run id -> its active product (one query)."""
    return {
        run_id: RunProduct(id=pk, price=price)
        for pk, run_id, price in run_products(run_ids).values_list("pk", "object_id", "price")
    }


# Set-based reads for the B2B health report: every contract's codes, orders and what fulfilled
# orders imply, each in one query. ``contract_ids`` None means every contract.


def b2b_codes_filter(contract_ids: Iterable[int] | None, column: str) -> Q:
    if contract_ids is None:
        return Q(**{f"{column}__isnull": False})
    return Q(**{f"{column}__in": list(contract_ids)})


@dataclass(frozen=True)
class OverRedeemedCode:
    contract_id: int
    code: str
    times: int


def one_time_codes_redeemed_twice(contract_ids: Iterable[int] | None) -> list[OverRedeemedCode]:
    """One-time codes of these contracts redeemed more than once, by contract then code (one
    query, over the redemptions)."""
    rows = (
        DiscountRedemption.objects.filter(
            b2b_codes_filter(contract_ids, "discount__b2b_contract_id"),
            discount__redemption_type=RedemptionType.ONE_TIME,
        )
        .values("discount_id", "discount__discount_code", "discount__b2b_contract_id")
        .annotate(times=Count("pk"))
        .filter(times__gt=1)
        .order_by("discount__b2b_contract_id", "discount_id")
    )
    return [
        OverRedeemedCode(
            contract_id=row["discount__b2b_contract_id"],
            code=row["discount__discount_code"],
            times=row["times"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class UnfulfilledPaidOrder:
    order_id: int
    contract_id: int | None
    state: str
    paid: Decimal
    reason: str


def paid_orders_not_fulfilled(contract_ids: Iterable[int] | None) -> list[UnfulfilledPaidOrder]:
    """Orders with an accepted payment (a payment transaction of more than $0) that are neither
    fulfilled nor refunded, with the contract of their code or of their first line (one
    query). None for ``contract_ids``: every order, B2B or not."""
    first_line = Line.objects.filter(order_id=OuterRef("pk")).order_by("pk")
    line_contract = Subquery(
        CourseRun.objects.filter(pk=Subquery(first_line.values("product__object_id")[:1])).values(
            "b2b_contract_id"
        )[:1]
    )
    orders = (
        Order.objects.exclude(state__in=[OrderState.FULFILLED, OrderState.REFUNDED])
        .annotate(
            paid=Subquery(
                Transaction.objects.filter(
                    order_id=OuterRef("pk"),
                    transaction_type=TransactionType.PAYMENT,
                    amount__gt=0,
                )
                .order_by("pk")
                .values("amount")[:1]
            ),
            contract=Coalesce(
                F("discount__b2b_contract_id"), line_contract, output_field=IntegerField()
            ),
        )
        .filter(paid__isnull=False)
    )
    if contract_ids is not None:
        orders = orders.filter(contract__in=list(contract_ids))
    return [
        UnfulfilledPaidOrder(
            order_id=pk, contract_id=contract, state=state, paid=paid, reason=reason or state_reason
        )
        for pk, contract, state, paid, reason, state_reason in orders.order_by("pk").values_list(
            "pk", "contract", "state", "paid", "refund_reason", "state_reason"
        )
    ]
