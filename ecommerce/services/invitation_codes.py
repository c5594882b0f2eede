"""Enrollment codes set aside for invitations to a B2B contract (b2b's manager invitations).

b2b decides who is invited and how many seats are left; this module hands out codes, given plain
values: a contract id, how many codes, the ids of codes already set aside (a query of ids), a
price. Every function issues a fixed number of statements whatever the number of codes.

- ``take_unused_codes``: codes of the contract's pool nobody has redeemed, applied or set aside,
  locked for the caller's transaction; the first product's codes first.
- ``create_personal_codes``: one-time codes made for one invitation each (uncapped contracts,
  whose pool holds one unlimited code per product). They are not part of the pool: they are
  made with ``is_bulk`` off, which keeps a reconciliation from turning them into the pool's
  unlimited code (``bulk_codes.retype_codes``); they carry the contract's price and dates.
- ``replace_codes``: deactivate codes (a revoked invitation's) and put as many fresh codes of the
  same product, type and price in their place.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from ecommerce.enums import DiscountType, PaymentType, RedemptionType
from ecommerce.models import Discount, DiscountProduct
from ecommerce.selectors import code_held, code_redeemed
from ecommerce.services.bulk_codes import CodeStamp


@dataclass(frozen=True, slots=True)
class InvitationCode:
    """A code handed to an invitation: its id, the code, and the product it is for."""

    id: int
    code: str
    product_id: int


def take_unused_codes(
    *, contract_id: int, count: int, set_aside: QuerySet | Iterable[int]
) -> list[InvitationCode]:
    """Up to ``count`` one-time codes of the contract that are active, never redeemed, not in
    use (``code_held``) and not in ``set_aside``, by product then age; their rows stay locked
    until the transaction ends (rows another transaction holds are skipped). One query."""
    if count <= 0:
        return []
    links = (
        DiscountProduct.objects.filter(
            discount__b2b_contract_id=contract_id,
            discount__is_active=True,
            discount__redemption_type=RedemptionType.ONE_TIME,
        )
        .exclude(discount_id__in=set_aside)
        .filter(~code_redeemed("discount_id"))
        .filter(~code_held("discount_id"))
        .select_related("discount")
        .order_by("product_id", "discount_id")
        .select_for_update(of=("discount",), skip_locked=True)[:count]
    )
    return [
        InvitationCode(link.discount_id, link.discount.discount_code, link.product_id)
        for link in links
    ]


def _create(
    *,
    contract_id: int,
    product_ids: list[int],
    stamp: CodeStamp,
    redemption_type: str,
    pooled: bool,
) -> list[InvitationCode]:
    now = timezone.now()
    codes = Discount.objects.bulk_create(
        [
            Discount(
                discount_code=str(uuid.uuid4()),
                amount=stamp.price,
                discount_type=DiscountType.FIXED_PRICE,
                redemption_type=redemption_type,
                payment_type=PaymentType.SALES,
                is_bulk=pooled,
                is_active=True,
                activation_date=stamp.activation,
                expiration_date=stamp.expiration,
                b2b_contract_id=contract_id,
                created_on=now,
                updated_on=now,
            )
            for _ in product_ids
        ]
    )
    DiscountProduct.objects.bulk_create(
        [
            DiscountProduct(discount_id=code.pk, product_id=product_id)
            for code, product_id in zip(codes, product_ids, strict=True)
        ]
    )
    return [
        InvitationCode(code.pk, code.discount_code, product_id)
        for code, product_id in zip(codes, product_ids, strict=True)
    ]


def create_personal_codes(
    *, contract_id: int, product_id: int, count: int, stamp: CodeStamp
) -> list[InvitationCode]:
    """``count`` new one-time fixed-price codes of the contract for ``product_id``, outside its
    pool, with the stamp's price and dates (two statements)."""
    return _create(
        contract_id=contract_id,
        product_ids=[product_id] * count,
        stamp=stamp,
        redemption_type=RedemptionType.ONE_TIME,
        pooled=False,
    )


def replace_codes(*, contract_id: int, code_ids: list[int]) -> list[InvitationCode]:
    """Deactivate the contract's unredeemed codes among ``code_ids`` and add, for each one
    deactivated, a fresh code of the same product, type, price and dates to the pool. Returns
    the new codes (a redeemed code is left as it is and not replaced)."""
    doomed = list(
        DiscountProduct.objects.filter(
            discount_id__in=code_ids, discount__b2b_contract_id=contract_id
        )
        .filter(~code_redeemed("discount_id"))
        .values_list(
            "discount_id",
            "product_id",
            "discount__amount",
            "discount__redemption_type",
            "discount__activation_date",
            "discount__expiration_date",
        )
        .order_by("discount_id")
    )
    if not doomed:
        return []
    Discount.objects.filter(pk__in=[row[0] for row in doomed]).update(
        is_active=False, updated_on=timezone.now()
    )
    fresh: list[InvitationCode] = []
    for (stamp, redemption_type), product_ids in _grouped(doomed).items():
        fresh += _create(
            contract_id=contract_id,
            product_ids=product_ids,
            stamp=stamp,
            redemption_type=redemption_type,
            pooled=True,
        )
    return fresh


def _grouped(rows: list[tuple]) -> dict[tuple[CodeStamp, str], list[int]]:
    """The product ids of ``rows`` by the stamp (price, dates) and type of their code."""
    groups: dict[tuple[CodeStamp, str], list[int]] = {}
    for _, product_id, price, redemption_type, activation, expiration in rows:
        stamp = CodeStamp(price=price, activation=activation, expiration=expiration)
        groups.setdefault((stamp, redemption_type), []).append(product_id)
    return groups


def retire_codes(*, contract_id: int, code_ids: list[int], replace: bool) -> list[InvitationCode]:
    """Deactivate the contract's unredeemed codes among ``code_ids``; with ``replace``, add a
    fresh code of the same product, type and price to the pool for each (``replace_codes``).
    Returns the fresh codes."""
    if replace:
        return replace_codes(contract_id=contract_id, code_ids=code_ids)
    Discount.objects.filter(pk__in=code_ids, b2b_contract_id=contract_id).filter(
        ~code_redeemed()
    ).update(is_active=False, updated_on=timezone.now())
    return []
