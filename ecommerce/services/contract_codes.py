"""The read side of b2b's door into ecommerce: what a B2B contract's codes and products are.

b2b reaches ecommerce through three modules only: ``bulk_codes`` (reconciliation's statements),
``invitation_codes`` (the codes invitations set aside) and this one, which reads. It answers in
plain values, ids and query expressions, set-based: the codes CSV's rows, the listings' and
plans' counts, the census, whether a code is redeemed, held or placed in a pending order, and
who redeemed it. Those two writing modules read through it as well, so that a contract's codes
mean the same thing to a plan and to the statement that carries it out.

Contracts and products are passed as ids (or queries of ids). The cart, checkout and orders read
through ``ecommerce.selectors``; the few reads they share with b2b (a run's product, the cart's
product URL) are defined there and named here, so that b2b needs no other door.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from courses.models import CourseRun
from ecommerce.constants import PENDING_ORDER_HOLD
from ecommerce.enums import RedemptionType
from ecommerce.models import (
    BasketDiscount,
    ContractCodeCensus,
    Discount,
    DiscountProduct,
    DiscountRedemption,
    Order,
    Product,
)

# What this module builds on, and (the redundant aliases: re-exported) the reads the cart and the
# dashboard share with b2b, defined once in the selectors and handed to b2b here.
from ecommerce.selectors import RunProduct as RunProduct
from ecommerce.selectors import active_products_by_run as active_products_by_run
from ecommerce.selectors import course_run_type, pending_orders, run_products
from ecommerce.selectors import product_cart_url as product_cart_url


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
    by_order = pending_orders().filter(discount_id=ref, created_on__gte=since)
    in_basket = BasketDiscount.objects.filter(discount_id=ref, created_on__gte=since)
    return Q(Exists(by_order)) | Q(Exists(in_basket))


def code_in_pending_order(discount_ref: str = "pk") -> Exists:
    """Whether a pending order, however old, was placed with the code: deleting the code would
    take it from the order (a payment may still come back for it)."""
    return Exists(pending_orders().filter(discount_id=OuterRef(discount_ref)))


def paying_orders(contract_id: int, *, now: datetime | None = None) -> QuerySet[Order]:
    """The orders at the payment processor for a contract's courses: pending, placed within the
    last PENDING_ORDER_HOLD with one of the contract's codes (a contract's product is never
    sold without one of its codes). For b2b's seat count: each purchaser holds a seat."""
    since = (now or timezone.now()) - PENDING_ORDER_HOLD
    return pending_orders().filter(discount__b2b_contract_id=contract_id, created_on__gte=since)


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
        .annotate(ordered=latest(pending_orders()), applied=latest(BasketDiscount.objects.all()))
        .values_list("ordered", "applied")
        .first()
    )
    ordered, applied = row or (None, None)
    held = [moment for moment in (ordered, applied) if moment is not None]
    if not held:
        return None
    return CodeUse(paying=ordered is not None, until=max(held) + PENDING_ORDER_HOLD)


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
