"""Set-based reads and writes behind code reconciliation.

Every function issues a fixed number of statements, or one per batch of B2B_CODE_BATCH_SIZE codes;
none issues a statement per code. Creation has a PostgreSQL path that generates the codes inside
the database (INSERT ... SELECT gen_random_uuid()), and a portable path for SQLite.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from b2b.models import ContractPage
from courses.models import CourseRun
from ecommerce.enums import DiscountType, PaymentType, RedemptionType
from ecommerce.models import Discount, DiscountProduct, Product
from ecommerce.selectors import code_redeemed


@dataclass
class ProductCodeStats:
    redeemed: int = 0
    active_unredeemed: int = 0
    inactive_unredeemed: int = 0


def contract_codes(contract: ContractPage):
    return Discount.objects.filter(b2b_contract=contract)


def contract_product_ids(contract: ContractPage) -> list[int]:
    """Active products of the contract's runs, in id order."""
    run_ids = CourseRun.objects.filter(b2b_contract=contract).values("pk")
    return list(
        Product.objects.filter(
            content_type=ContentType.objects.get_for_model(CourseRun),
            object_id__in=run_ids,
            is_active=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def count_products_to_reprice(product_ids: list[int], price: Decimal) -> int:
    return Product.objects.filter(pk__in=product_ids).exclude(price=price).count()


def reprice_products(product_ids: list[int], price: Decimal) -> int:
    return (
        Product.objects.filter(pk__in=product_ids)
        .exclude(price=price)
        .update(price=price, updated_on=timezone.now())
    )


def count_codes_to_reprice(contract: ContractPage, price: Decimal) -> int:
    return contract_codes(contract).exclude(amount=price).count()


def reprice_codes(contract: ContractPage, price: Decimal) -> int:
    return (
        contract_codes(contract)
        .exclude(amount=price)
        .update(amount=price, updated_on=timezone.now())
    )


def _retype_queryset(contract: ContractPage, *, one_time: bool):
    if one_time:
        # Under a cap every code is one-time; a redeemed one is simply used up.
        return contract_codes(contract).exclude(redemption_type=RedemptionType.ONE_TIME)
    # Without a cap, unredeemed codes become unlimited; redeemed one-time codes stay used up.
    return (
        contract_codes(contract)
        .exclude(redemption_type=RedemptionType.UNLIMITED)
        .filter(~code_redeemed())
    )


def count_to_retype(contract: ContractPage, *, one_time: bool) -> int:
    return _retype_queryset(contract, one_time=one_time).count()


def retype_codes(contract: ContractPage, *, one_time: bool) -> int:
    new_type = RedemptionType.ONE_TIME if one_time else RedemptionType.UNLIMITED
    return _retype_queryset(contract, one_time=one_time).update(
        redemption_type=new_type, updated_on=timezone.now()
    )


def count_unredeemed(contract: ContractPage) -> int:
    return contract_codes(contract).filter(~code_redeemed()).count()


def delete_unredeemed(contract: ContractPage) -> int:
    doomed = contract_codes(contract).filter(~code_redeemed()).values("pk")
    DiscountProduct.objects.filter(discount_id__in=doomed).delete()
    deleted, _ = Discount.objects.filter(pk__in=doomed).delete()
    return deleted


def product_code_stats(
    contract: ContractPage, product_ids: list[int]
) -> dict[int, ProductCodeStats]:
    """Per product: redeemed codes, and active and inactive unredeemed codes (one query)."""
    rows = (
        DiscountProduct.objects.filter(product_id__in=product_ids, discount__b2b_contract=contract)
        .annotate(is_redeemed=code_redeemed("discount_id"))
        .values("product_id")
        .annotate(
            redeemed=Count("pk", filter=Q(is_redeemed=True)),
            active_unredeemed=Count("pk", filter=Q(is_redeemed=False, discount__is_active=True)),
            inactive_unredeemed=Count("pk", filter=Q(is_redeemed=False, discount__is_active=False)),
        )
        .order_by()
    )
    return {
        row["product_id"]: ProductCodeStats(
            redeemed=row["redeemed"],
            active_unredeemed=row["active_unredeemed"],
            inactive_unredeemed=row["inactive_unredeemed"],
        )
        for row in rows
    }


def set_active_by_rank(contract: ContractPage, counts: dict[int, int], *, activate: bool) -> int:
    """Per product, (de)activate ``counts[product]`` unredeemed codes in one statement.

    Deactivation takes the newest codes first; reactivation the oldest deactivated ones first.
    """
    limit = Case(
        *[When(product_id=product_id, then=Value(n)) for product_id, n in counts.items()],
        default=Value(0),
        output_field=IntegerField(),
    )
    order = "discount_id" if activate else "-discount_id"
    ranked = (
        DiscountProduct.objects.filter(
            product_id__in=list(counts),
            discount__b2b_contract=contract,
            discount__is_active=not activate,
        )
        .filter(~code_redeemed("discount_id"))
        .annotate(
            position=Window(RowNumber(), partition_by=["product_id"], order_by=order),
            limit=limit,
        )
    )
    chosen = ranked.filter(position__lte=F("limit")).values("discount_id")
    return Discount.objects.filter(pk__in=chosen).update(
        is_active=activate, updated_on=timezone.now()
    )


def create_codes(
    contract: ContractPage,
    counts: dict[int, int],
    *,
    price: Decimal,
    redemption_type: str,
    progress: Callable[[str, int, int], None] | None = None,
) -> int:
    """Create ``counts[product]`` new codes for each product, in batches."""
    total = sum(counts.values())
    size = settings.B2B_CODE_BATCH_SIZE
    writer = _insert_batch_postgres if connection.vendor == "postgresql" else _insert_batch_orm
    done = 0
    batch: list[tuple[int, int]] = []  # (product id, how many)
    batch_size = 0
    for product_id, n in counts.items():
        while n:
            take = min(n, size - batch_size)
            batch.append((product_id, take))
            batch_size += take
            n -= take
            if batch_size == size:
                writer(contract, batch, price, redemption_type)
                done += batch_size
                if progress:
                    progress("Creating codes", done, total)
                batch, batch_size = [], 0
    if batch:
        writer(contract, batch, price, redemption_type)
        done += batch_size
        if progress:
            progress("Creating codes", done, total)
    return done


def _insert_batch_postgres(contract, batch, price, redemption_type) -> None:
    """One statement: codes generated in the database, inserted with their product links."""
    discount = Discount._meta.db_table
    link = DiscountProduct._meta.db_table
    sql = f"""
        WITH wanted AS MATERIALIZED (
            SELECT w.product_id, gen_random_uuid()::text AS code
            FROM unnest(%(products)s::bigint[], %(counts)s::int[]) AS w(product_id, n),
                 generate_series(1, w.n)
        ),
        inserted AS (
            INSERT INTO {discount} (
                discount_code, amount, discount_type, redemption_type, payment_type, is_bulk,
                is_active, b2b_contract_id, created_on, updated_on
            )
            SELECT code, %(amount)s, %(discount_type)s, %(redemption_type)s, %(payment_type)s,
                   TRUE, TRUE, %(contract)s, now(), now()
            FROM wanted
            RETURNING id, discount_code
        )
        INSERT INTO {link} (discount_id, product_id)
        SELECT inserted.id, wanted.product_id
        FROM inserted JOIN wanted ON wanted.code = inserted.discount_code
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "products": [product_id for product_id, _ in batch],
                "counts": [n for _, n in batch],
                "amount": price,
                "discount_type": DiscountType.FIXED_PRICE,
                "redemption_type": redemption_type,
                "payment_type": PaymentType.SALES,
                "contract": contract.pk,
            },
        )


def _insert_batch_orm(contract, batch, price, redemption_type) -> None:
    now = timezone.now()
    discounts = []
    products = []
    for product_id, n in batch:
        for _ in range(n):
            discounts.append(
                Discount(
                    discount_code=str(uuid.uuid4()),
                    amount=price,
                    discount_type=DiscountType.FIXED_PRICE,
                    redemption_type=redemption_type,
                    payment_type=PaymentType.SALES,
                    is_bulk=True,
                    is_active=True,
                    b2b_contract=contract,
                    created_on=now,
                    updated_on=now,
                )
            )
            products.append(product_id)
    created = Discount.objects.bulk_create(discounts)
    DiscountProduct.objects.bulk_create(
        [
            DiscountProduct(discount_id=discount.pk, product_id=product_id)
            for discount, product_id in zip(created, products, strict=True)
        ]
    )
