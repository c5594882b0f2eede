"""Read queries of the cart, orders and dashboard, with their joins; a fixed number of queries each.

Every query that returns a learner's data is filtered by that learner: one learner never sees
another's cart or orders.

Also the one lookup of a course run's product (``run_products``), and the set-based reads of B2B
contracts' products and codes that b2b's listings, codes CSV and reconciliation plans use.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from courses.models import CourseRun, CourseRunEnrollment
from ecommerce.constants import CART_ADD_PATH, PENDING_ORDER_HOLD
from ecommerce.enums import OrderState, RedemptionType, TransactionType
from ecommerce.models import (
    Basket,
    BasketDiscount,
    BasketItem,
    ContractCodeCensus,
    ContractCodeTerms,
    Discount,
    DiscountProduct,
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


def code_redeemed(discount_ref: str = "pk") -> Exists:
    """Whether the discount code referred to by ``discount_ref`` has been redeemed at least
    once; for ``filter`` and ``annotate`` on querysets of codes or of their product links."""
    return Exists(DiscountRedemption.objects.filter(discount_id=OuterRef(discount_ref)))


def code_held(discount_ref: str = "pk", *, now: datetime | None = None) -> Q:
    """Whether a learner is using the code referred to by ``discount_ref`` right now: a pending
    order placed with it, or a basket it was applied to, within the last PENDING_ORDER_HOLD.

    Reconciliation never deactivates or deletes a held code; for ``filter`` and Count filters on
    querysets of codes or of their product links.
    """
    since = (now or timezone.now()) - PENDING_ORDER_HOLD
    ref = OuterRef(discount_ref)
    by_order = _pending_orders().filter(discount_id=ref, created_on__gte=since)
    in_basket = BasketDiscount.objects.filter(discount_id=ref, created_on__gte=since)
    return Q(Exists(by_order)) | Q(Exists(in_basket))


def code_in_pending_order(discount_ref: str = "pk") -> Exists:
    """Whether a pending order, however old, was placed with the code: deleting the code would
    take it from the order (a payment may still come back for it)."""
    return Exists(_pending_orders().filter(discount_id=OuterRef(discount_ref)))


def _pending_orders() -> QuerySet[Order]:
    return Order.objects.filter(state=OrderState.PENDING)


def paying_orders(contract_id: int, *, now: datetime | None = None) -> QuerySet[Order]:
    """The orders at the payment processor for a contract's courses: pending, placed within the
    last PENDING_ORDER_HOLD with one of the contract's codes (a contract's product is never
    sold without one of its codes). For b2b's seat count: each purchaser holds a seat."""
    since = (now or timezone.now()) - PENDING_ORDER_HOLD
    return _pending_orders().filter(discount__b2b_contract_id=contract_id, created_on__gte=since)


@dataclass(frozen=True, slots=True)
class CodeUse:
    """Who is using a code right now (``code_held``) and until when the hold lasts at most:
    ``paying`` when a pending order holds it (a payment may come back), else only a cart."""

    paying: bool
    until: datetime


def code_use(discount_id: int, *, now: datetime | None = None) -> CodeUse | None:
    """How the code is held (``code_held``'s definition, for one code), or None. One query."""
    since = (now or timezone.now()) - PENDING_ORDER_HOLD

    def latest(rows: QuerySet) -> Subquery:
        found = rows.filter(discount_id=discount_id, created_on__gte=since)
        return Subquery(found.order_by("-created_on").values("created_on")[:1])

    row = (
        Discount.objects.filter(pk=discount_id)
        .annotate(ordered=latest(_pending_orders()), applied=latest(BasketDiscount.objects.all()))
        .values_list("ordered", "applied")
        .first()
    )
    ordered, applied = row or (None, None)
    held = [moment for moment in (ordered, applied) if moment is not None]
    if not held:
        return None
    return CodeUse(paying=ordered is not None, until=max(held) + PENDING_ORDER_HOLD)


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


def orders_of(user: User):
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


def pending_holds(discount_id: int, *, since, exclude_user: User | None = None):
    """Recent pending orders that hold this code (a payment may still come back for them)."""
    holds = _pending_orders().filter(discount_id=discount_id, created_on__gte=since)
    if exclude_user is not None:
        holds = holds.exclude(purchaser=exclude_user)
    return holds


def product_cart_url(product_id: int) -> str:
    """The address that puts the product in the learner's cart."""
    return f"{settings.SITE_BASE_URL}{CART_ADD_PATH}?product_id={product_id}"


# Products and enrollment codes of B2B contracts, read set-based for b2b's listings, CSV and
# reconciliation plans. Contracts and products are passed as ids (or queries of ids).


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


def active_product_ids(run_ids: Iterable[int] | QuerySet) -> list[int]:
    """The runs' active products, in id order (one query)."""
    return list(run_products(run_ids).order_by("pk").values_list("pk", flat=True))


@dataclass(frozen=True)
class ContractCodeCounts:
    total: int = 0
    usable: int = 0  # active and never redeemed
    redeemed: int = 0

    @property
    def deactivated(self) -> int:
        """Codes that are neither usable nor redeemed: deactivated before anyone used them."""
        return self.total - self.usable - self.redeemed


def contract_code_counts(contract_ids: Iterable[int]) -> dict[int, ContractCodeCounts]:
    """Per contract: all its codes, the usable ones and the redeemed ones (one query)."""
    rows = (
        Discount.objects.filter(b2b_contract_id__in=contract_ids)
        .annotate(is_redeemed=code_redeemed())
        .values("b2b_contract_id")
        .annotate(
            total=Count("pk"),
            usable=Count("pk", filter=Q(is_active=True, is_redeemed=False)),
            redeemed=Count("pk", filter=Q(is_redeemed=True)),
        )
        .order_by()
    )
    return {
        row["b2b_contract_id"]: ContractCodeCounts(
            total=row["total"], usable=row["usable"], redeemed=row["redeemed"]
        )
        for row in rows
    }


def count_redeemed_codes(contract_ids: Iterable[int] | QuerySet) -> int:
    """Codes of these contracts that have been redeemed at least once (one query)."""
    return Discount.objects.filter(b2b_contract_id__in=contract_ids).filter(code_redeemed()).count()


def count_codes_in_pending_orders(contract_ids: Iterable[int] | QuerySet) -> int:
    """Codes of these contracts that a pending order was placed with (one query): deleting one
    would take it from the order."""
    return (
        Discount.objects.filter(b2b_contract_id__in=contract_ids)
        .filter(code_in_pending_order())
        .count()
    )


@dataclass(frozen=True, slots=True)
class CensusGroup:
    """How many codes of a contract, linked to one product, share one state."""

    product_id: int
    is_active: bool
    redeemed: bool
    redemption_type: str
    codes: int


CENSUS_STATE = ("product_id", "is_active", "redeemed", "redemption_type")


def contract_code_census(contract_id: int) -> list[CensusGroup] | None:
    """The contract's codes by product and state (``ContractCodeCensus``), one query reading a
    few rows per product however many codes there are; None where no census is kept (SQLite)."""
    if connection.vendor != "postgresql":
        return None
    rows = (
        ContractCodeCensus.objects.filter(contract_id=contract_id)
        .values(*CENSUS_STATE)
        .annotate(codes=Sum("n"))
        .exclude(codes=0)
        .order_by()
    )
    return [CensusGroup(**row) for row in rows]


@dataclass(frozen=True)
class ProductCodeStats:
    redeemed: int = 0
    active_unredeemed: int = 0
    inactive_unredeemed: int = 0
    held: int = 0  # of the active unredeemed codes, those a learner is using (``code_held``)


def product_code_stats(
    *, contract_id: int, product_ids: list[int], set_aside: QuerySet | None = None
) -> dict[int, ProductCodeStats]:
    """Per product: the contract's redeemed codes, its active and inactive unredeemed codes, and
    how many of the active unredeemed ones are held (one query).

    ``set_aside`` (a query of code ids: the codes invitations were given) are not the pool's to
    move: an active one counts as held (its invitee has it), an inactive one (withdrawn) is not
    counted as one a reconciliation could reactivate."""
    active_unredeemed = Q(is_redeemed=False, discount__is_active=True)
    inactive_unredeemed = Q(is_redeemed=False, discount__is_active=False)
    held = code_held("discount_id")
    if set_aside is not None:
        inactive_unredeemed &= ~Q(discount_id__in=set_aside)
        held |= Q(discount_id__in=set_aside)
    rows = (
        DiscountProduct.objects.filter(
            product_id__in=product_ids, discount__b2b_contract_id=contract_id
        )
        .annotate(is_redeemed=code_redeemed("discount_id"))
        .values("product_id")
        .annotate(
            redeemed=Count("pk", filter=Q(is_redeemed=True)),
            active_unredeemed=Count("pk", filter=active_unredeemed),
            inactive_unredeemed=Count("pk", filter=inactive_unredeemed),
            held=Count("pk", filter=active_unredeemed & held),
        )
        .order_by()
    )
    return {
        row["product_id"]: ProductCodeStats(
            redeemed=row["redeemed"],
            active_unredeemed=row["active_unredeemed"],
            inactive_unredeemed=row["inactive_unredeemed"],
            held=row["held"],
        )
        for row in rows
    }


def usable_codes_by_product(*, contract_id: int, product_ids: list[int]) -> dict[int, int]:
    """Per product: the contract's usable codes, active and never redeemed (one query)."""
    return dict(
        DiscountProduct.objects.filter(
            product_id__in=product_ids,
            discount__b2b_contract_id=contract_id,
            discount__is_active=True,
        )
        .filter(~code_redeemed("discount_id"))
        .values("product_id")
        .annotate(n=Count("pk"))
        .values_list("product_id", "n")
        .order_by()
    )


@dataclass(frozen=True, slots=True)
class CodeRow:
    """A code of a contract as the codes CSV lists it."""

    code: str
    product_id: int
    unlimited: bool
    times_redeemed: int
    redeemer: str | None  # the e-mail of a learner who redeemed it, None if nobody did


def _contract_code_values(contract_id: int) -> QuerySet:
    """The contract's usable or redeemed codes, by product then code: one row per code and
    product, as ``code``, ``redemption`` (its type), ``sold_product``, ``code_id``,
    ``times_redeemed`` and ``redeemer`` (an e-mail of a learner who redeemed it, or None)."""
    return (
        DiscountProduct.objects.filter(discount__b2b_contract_id=contract_id)
        .values(
            code=F("discount__discount_code"),
            redemption=F("discount__redemption_type"),
            sold_product=F("product_id"),
            code_id=F("discount_id"),
        )
        .annotate(
            times_redeemed=Count("discount__redemptions"),
            redeemer=Min("discount__redemptions__redeemed_by__email"),
        )
        .filter(Q(discount__is_active=True) | Q(times_redeemed__gt=0))
        .order_by("sold_product", "code_id")
    )


def contract_code_rows(contract_id: int, *, chunk_size: int) -> Iterator[CodeRow]:
    """The contract's usable or redeemed codes, by product then code, streamed in chunks from
    one query."""
    for row in _contract_code_values(contract_id).iterator(chunk_size=chunk_size):
        yield CodeRow(
            code=row["code"],
            product_id=row["sold_product"],
            unlimited=row["redemption"] == RedemptionType.UNLIMITED,
            times_redeemed=row["times_redeemed"],
            redeemer=row["redeemer"],
        )


def contract_code_rows_sql(contract_id: int) -> tuple[str, tuple[Any, ...]]:
    """The query of ``contract_code_rows`` as SQL and its parameters, for a statement that
    lays the rows out in the database (the codes CSV through PostgreSQL's COPY). Its columns:
    ``code``, ``redemption``, ``sold_product``, ``code_id``, ``times_redeemed``, ``redeemer``;
    an outer query orders by ``sold_product, code_id`` as the rows are ordered here."""
    sql, params = _contract_code_values(contract_id).query.sql_with_params()
    return sql, tuple(params)


def code_product_runs(contract_id: int) -> dict[int, CourseRun | None]:
    """Product id -> the course run it sells (title and run id only), for every product the
    contract's codes are linked to; None for a run that no longer exists (one query per table)."""
    linked = DiscountProduct.objects.filter(discount__b2b_contract_id=contract_id)
    product_runs = dict(
        Product.objects.filter(
            content_type=course_run_type(), pk__in=linked.values("product_id")
        ).values_list("pk", "object_id")
    )
    runs = {
        run.pk: run
        for run in CourseRun.objects.filter(pk__in=set(product_runs.values())).only(
            "title", "courseware_id"
        )
    }
    return {product_id: runs.get(run_id) for product_id, run_id in product_runs.items()}


def contract_codes(
    contract_id: int,
    *,
    redeemed: bool | None = None,
    product_id: int | None = None,
    active: bool | None = None,
) -> QuerySet:
    """The contract's codes, one row per code and product (dicts, in link id order), filtered as
    asked. Counts and redeemers are read per row with subqueries, so a page of a contract with
    any number of codes costs the same."""
    redemptions = DiscountRedemption.objects.filter(discount_id=OuterRef("discount_id"))
    rows = DiscountProduct.objects.filter(discount__b2b_contract_id=contract_id)
    if product_id is not None:
        rows = rows.filter(product_id=product_id)
    if active is not None:
        rows = rows.filter(discount__is_active=active)
    if redeemed is not None:
        rows = rows.filter(
            code_redeemed("discount_id") if redeemed else ~code_redeemed("discount_id")
        )
    return rows.values(
        "pk",
        "product_id",
        code=F("discount__discount_code"),
        redemption_type=F("discount__redemption_type"),
        is_active=F("discount__is_active"),
    ).annotate(
        times_redeemed=Coalesce(
            Subquery(
                redemptions.order_by().values("discount_id").annotate(n=Count("pk")).values("n")[:1]
            ),
            0,
        ),
        redeemer=Subquery(redemptions.order_by("pk").values("redeemed_by__email")[:1]),
    )


# Set-based reads for the B2B health report: every contract's codes, orders and what fulfilled
# orders imply, each in one query. ``contract_ids`` None means every contract.


def _b2b_codes(contract_ids: Iterable[int] | None, column: str) -> Q:
    if contract_ids is None:
        return Q(**{f"{column}__isnull": False})
    return Q(**{f"{column}__in": list(contract_ids)})


@dataclass
class CodeTally:
    """One product's codes in one contract: redeemed, usable (active, never redeemed), and the
    usable ones by price and by redemption type. ``personal`` is how many of the usable ones
    are personal invitation codes (``is_bulk`` off: one-time codes made for one invitation
    each, outside the pool; ecommerce/services/invitation_codes.py), counted in the others too."""

    contract_id: int
    product_id: int
    redeemed: int = 0
    usable: int = 0
    personal: int = 0
    usable_by_price: dict[Decimal, int] = field(default_factory=dict)
    usable_by_type: dict[str, int] = field(default_factory=dict)


def code_tallies(contract_ids: Iterable[int] | None) -> dict[tuple[int, int], CodeTally]:
    """(contract id, product id) -> its ``CodeTally``, for every product linked to a code of
    these contracts. Two queries, grouped in the database by price, type and pool: the active codes
    (a plain join, no per-code subquery), and the few codes that were redeemed, read from the
    redemptions and taken off the usable ones."""
    links = DiscountProduct.objects.filter(_b2b_codes(contract_ids, "discount__b2b_contract_id"))
    groups = {
        "contract": F("discount__b2b_contract_id"),
        "amount": code_terms("discount")["price"],
        "kind": F("discount__redemption_type"),
        "pooled": F("discount__is_bulk"),
    }
    active = (
        links.filter(discount__is_active=True)
        .values("product_id", **groups)
        .annotate(n=Count("pk"))
        .order_by()
    )
    redeemed_ids = DiscountRedemption.objects.values("discount_id")
    redeemed = (
        links.filter(discount_id__in=redeemed_ids)
        .values("product_id", "discount__is_active", **groups)
        .annotate(n=Count("pk"))
        .order_by()
    )
    tallies: dict[tuple[int, int], CodeTally] = {}

    def add(row: Any, usable: int) -> None:
        key = (row["contract"], row["product_id"])
        tally = tallies.setdefault(key, CodeTally(contract_id=key[0], product_id=key[1]))
        tally.usable += usable
        if not row["pooled"]:
            tally.personal += usable
        by_price, by_type = tally.usable_by_price, tally.usable_by_type
        by_price[row["amount"]] = by_price.get(row["amount"], 0) + usable
        by_type[row["kind"]] = by_type.get(row["kind"], 0) + usable

    for row in active:
        add(row, row["n"])
    redeemed_row: Any
    for redeemed_row in redeemed:
        row = redeemed_row
        if row["discount__is_active"]:
            add(row, -row["n"])
        else:
            add(row, 0)
        tallies[(row["contract"], row["product_id"])].redeemed += row["n"]
    for tally in tallies.values():
        tally.usable_by_price = {k: n for k, n in tally.usable_by_price.items() if n}
        tally.usable_by_type = {k: n for k, n in tally.usable_by_type.items() if n}
    return tallies


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
            _b2b_codes(contract_ids, "discount__b2b_contract_id"),
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


def _run_contract(product_ref: str) -> Subquery:
    """The contract of the course run a product (referred to by ``product_ref``) sells."""
    return Subquery(
        CourseRun.objects.filter(pk=OuterRef(f"{product_ref}__object_id")).values(
            "b2b_contract_id"
        )[:1]
    )


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


def fulfilled_lines(contract_ids: Iterable[int] | None) -> QuerySet:
    """The lines of fulfilled orders that sell a course run, as dicts: ``order_id``,
    ``purchaser_id``, ``run_id``, ``contract_id`` (the run's contract, or None) and
    ``enrolled`` (the purchaser has an active enrollment in the run). A query to filter further
    (b2b adds whether the purchaser is a member of the contract)."""
    enrolled = CourseRunEnrollment.objects.filter(
        user_id=OuterRef("order__purchaser_id"), run_id=OuterRef("product__object_id"), active=True
    )
    lines = Line.objects.filter(
        order__state=OrderState.FULFILLED, product__content_type=course_run_type()
    ).annotate(contract_id=_run_contract("product"), enrolled=Exists(enrolled))
    if contract_ids is not None:
        lines = lines.filter(contract_id__in=list(contract_ids))
    return lines.values(
        "order_id",
        "contract_id",
        "enrolled",
        purchaser_id=F("order__purchaser_id"),
        run_id=F("product__object_id"),
    ).order_by("order_id", "pk")


def first_redemption(discount_ref: str) -> dict[str, Subquery]:
    """The first redemption of the code referred to by ``discount_ref``, as annotations for a
    queryset of rows holding a code: who redeemed it (``redeemer_id``, ``redeemer_email``) and
    when (``redeemed_at``); all None for a code nobody has redeemed."""
    first = DiscountRedemption.objects.filter(discount_id=OuterRef(discount_ref)).order_by(
        "redemption_date", "pk"
    )
    return {
        "redeemer_id": Subquery(first.values("redeemed_by_id")[:1]),
        "redeemer_email": Subquery(first.values("redeemed_by__email")[:1]),
        "redeemed_at": Subquery(first.values("redemption_date")[:1]),
    }


def code_product(discount_ref: str) -> Subquery:
    """The (first) product the code referred to by ``discount_ref`` is for, as an annotation."""
    links = DiscountProduct.objects.filter(discount_id=OuterRef(discount_ref)).order_by(
        "product_id"
    )
    return Subquery(links.values("product_id")[:1])
