"""New codes of a B2B contract: the one place that says what such a code is, and inserts it.

Two services make a contract's codes: ``bulk_codes.create_codes`` fills a reconciliation's pool,
and ``invitation_codes`` makes an uncapped contract's personal codes and the fresh pool codes
that replace a revoked invitation's. Both build them with ``contract_code``: a fixed-price sales
code of the contract, active, with a random text and no price or dates of its own (it sells at
the contract's ``ContractCodeTerms`` row), in the contract's pool or not (``is_bulk``). No other
module builds a ``Discount`` (``tests/test_app_seams.py``; staff add other codes in the Django
admin), so a new column of a contract's code gets its value once, for every way codes are made.

Codes go in with their product links in a fixed number of statements: through the ORM, which
hands the saved codes back (``create_linked_codes``), or, for a reconciliation's batches on
PostgreSQL, inside the database, which generates the codes' text too (``insert_pool_codes``).
"""

import uuid
from datetime import datetime

from django.db import connection
from django.utils import timezone

from ecommerce.enums import DiscountType, PaymentType
from ecommerce.models import Discount, DiscountProduct


def contract_code(
    *, contract_id: int, redemption_type: str, pooled: bool, now: datetime
) -> Discount:
    """A new code of the contract, not saved yet: ``pooled`` for one of its pool (which a
    reconciliation counts, re-types and (de)activates), not for a personal invitation code."""
    return Discount(
        discount_code=str(uuid.uuid4()),
        discount_type=DiscountType.FIXED_PRICE,
        redemption_type=redemption_type,
        payment_type=PaymentType.SALES,
        is_bulk=pooled,
        is_active=True,
        b2b_contract_id=contract_id,
        created_on=now,
        updated_on=now,
    )


def create_linked_codes(
    *, contract_id: int, product_ids: list[int], redemption_type: str, pooled: bool
) -> list[tuple[Discount, int]]:
    """A new code of the contract for each entry of ``product_ids``, linked to that product;
    returns the saved codes, each with its product, in that order. Two statements."""
    now = timezone.now()
    codes = Discount.objects.bulk_create(
        [
            contract_code(
                contract_id=contract_id, redemption_type=redemption_type, pooled=pooled, now=now
            )
            for _ in product_ids
        ]
    )
    linked = list(zip(codes, product_ids, strict=True))
    DiscountProduct.objects.bulk_create(
        [DiscountProduct(discount_id=code.pk, product_id=product_id) for code, product_id in linked]
    )
    return linked


def insert_pool_codes(
    *, contract_id: int, batch: list[tuple[int, int]], redemption_type: str
) -> None:
    """Insert ``batch`` ((product id, how many) pairs) of new pool codes of the contract with
    their product links: on PostgreSQL in one statement that generates the codes in the
    database, elsewhere through ``create_linked_codes`` (two statements)."""
    if connection.vendor != "postgresql":
        create_linked_codes(
            contract_id=contract_id,
            product_ids=[product_id for product_id, n in batch for _ in range(n)],
            redemption_type=redemption_type,
            pooled=True,
        )
        return
    # The columns' values are those of ``contract_code``; the database makes each code's text
    # (gen_random_uuid) and sets the times (now()).
    code = contract_code(
        contract_id=contract_id, redemption_type=redemption_type, pooled=True, now=timezone.now()
    )
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
                discount_code, discount_type, redemption_type, payment_type, is_bulk,
                is_active, b2b_contract_id, created_on, updated_on
            )
            SELECT code, %(discount_type)s, %(redemption_type)s, %(payment_type)s,
                   %(is_bulk)s, %(is_active)s, %(contract)s, now(), now()
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
                "discount_type": code.discount_type,
                "redemption_type": code.redemption_type,
                "payment_type": code.payment_type,
                "is_bulk": code.is_bulk,
                "is_active": code.is_active,
                "contract": code.b2b_contract_id,
            },
        )
