"""The read side of the door (``ecommerce.services.contract_codes.reads``): what a B2B contract's
codes and products are, in plain values, ids and query expressions, set-based: the listings' and
plans' counts, the census, whether a code is redeemed, held or placed in a pending order, who
redeemed it, and the health report's tallies of a contract's codes. ``bulk`` and
``invitations`` read through it as well, so that a contract's codes mean the same thing to a
plan and to the statement that carries it out.

Contracts and products are passed as ids (or queries of ids). The cart, checkout and orders read
through ``ecommerce.selectors``; the few reads they share with b2b (a run's product, the cart's
product URL) are defined there and named here, so that b2b needs no other door."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from courses.models import CourseRun, CourseRunEnrollment
from ecommerce.constants import PENDING_ORDER_HOLD
from ecommerce.enums import OrderState
from ecommerce.models import (
    BasketDiscount,
    ContractCodeCensus,
    Discount,
    DiscountProduct,
    DiscountRedemption,
    Line,
    Order,
)
from ecommerce.selectors import RunProduct as RunProduct
from ecommerce.selectors import active_products_by_run as active_products_by_run
from ecommerce.selectors import (
    b2b_codes_filter,
    code_terms,
    course_run_type,
    pending_orders,
    run_products,
)
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


@dataclass
class CodeTally:
    """One product's codes in one contract: redeemed, usable (active, never redeemed), and the
    usable ones by price and by redemption type. ``personal`` is how many of the usable ones
    are personal invitation codes (``is_bulk`` off: one-time codes made for one invitation
    each, outside the pool; ecommerce/services/contract_codes/invitations.py), counted in the
    others too."""

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
    links = DiscountProduct.objects.filter(
        b2b_codes_filter(contract_ids, "discount__b2b_contract_id")
    )
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


def _run_contract(product_ref: str) -> Subquery:
    """The contract of the course run a product (referred to by ``product_ref``) sells."""
    return Subquery(
        CourseRun.objects.filter(pk=OuterRef(f"{product_ref}__object_id")).values(
            "b2b_contract_id"
        )[:1]
    )


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
