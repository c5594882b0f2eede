"""A contract's codes one by one, for the codes CSV and the staff API's list: each code with
its product's run, whether it was redeemed, and the same rows as one SQL statement for
PostgreSQL's COPY."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from courses.models import CourseRun
from ecommerce.enums import RedemptionType
from ecommerce.models import (
    DiscountProduct,
    DiscountRedemption,
    Product,
)
from ecommerce.selectors import RunProduct as RunProduct
from ecommerce.selectors import active_products_by_run as active_products_by_run
from ecommerce.selectors import course_run_type
from ecommerce.selectors import product_cart_url as product_cart_url
from ecommerce.services.contract_codes.reads import code_redeemed


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
