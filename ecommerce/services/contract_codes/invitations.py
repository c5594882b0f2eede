"""Enrollment codes set aside for invitations to a B2B contract (b2b's manager invitations).

b2b decides who is invited and how many seats are left; this module hands out codes, given plain
values: a contract id, how many codes, the ids of codes already set aside (a query of ids), a
price. Every function issues a fixed number of statements whatever the number of codes.

- ``take_unused_codes``: codes of the contract's pool nobody has redeemed, applied or set aside,
  locked for the caller's transaction; the first product's codes first.
- ``create_personal_codes``: one-time codes made for one invitation each (uncapped contracts,
  whose pool holds one unlimited code per product). They are not part of the pool: they are
  made with ``is_bulk`` off, which keeps a reconciliation from turning them into the pool's
  unlimited code (``bulk_codes.retype_codes``); like every code of the contract they sell at
  its terms row (``bulk_codes.ensure_terms`` writes one first if the contract has none yet).
- ``lock_code_use``: lock a code's row (level 6 of the lock order) and say whether a learner is
  using it (``contract_codes.code_use``): what a revoke asks before it takes the code back.
- ``replace_codes``: deactivate codes (a revoked invitation's) and put as many fresh codes of the
  same product and type in their place: exactly one for each code this call deactivated, and
  never for a code that is redeemed, held by a learner, or already inactive.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from ecommerce.enums import RedemptionType
from ecommerce.models import Discount, DiscountProduct
from ecommerce.services.contract_codes.bulk import CodeStamp, ensure_terms
from ecommerce.services.contract_codes.creation import create_linked_codes
from ecommerce.services.contract_codes.reads import CodeUse, code_held, code_redeemed, code_use


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
    redemption_type: str,
    pooled: bool,
) -> list[InvitationCode]:
    created = create_linked_codes(
        contract_id=contract_id,
        product_ids=product_ids,
        redemption_type=redemption_type,
        pooled=pooled,
    )
    return [InvitationCode(code.pk, code.discount_code, product_id) for code, product_id in created]


def create_personal_codes(
    *, contract_id: int, product_id: int, count: int, stamp: CodeStamp
) -> list[InvitationCode]:
    """``count`` new one-time fixed-price codes of the contract for ``product_id``, outside its
    pool; they sell at the contract's terms, which are ``stamp`` when it has none yet (three
    statements)."""
    ensure_terms(contract_id, stamp)
    return _create(
        contract_id=contract_id,
        product_ids=[product_id] * count,
        redemption_type=RedemptionType.ONE_TIME,
        pooled=False,
    )


def lock_code_use(*, contract_id: int, code_id: int) -> CodeUse | None:
    """Lock the contract's code ``code_id`` (its row, ``FOR NO KEY UPDATE``, until the
    transaction ends) and then say how a learner holds it (``code_use``), or None. The caller
    holds the contract's row lock, which checkout and payment receipts take before the code: no
    hold can appear meanwhile but a cart's, and a cart's code is checked again at checkout.
    Two queries."""
    _lock_codes(contract_id, [code_id])
    return code_use(code_id)


def _lock_codes(contract_id: int, code_ids: list[int]) -> None:
    """Lock the rows of the contract's codes among ``code_ids``, by id (one statement); what is
    read about them afterwards is read after any checkout that held them has committed."""
    list(
        Discount.objects.select_for_update(no_key=True)
        .filter(pk__in=code_ids, b2b_contract_id=contract_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _retirable(contract_id: int, code_ids: list[int]) -> QuerySet[DiscountProduct]:
    """The product links of the contract's codes among ``code_ids`` that may be taken back:
    active, never redeemed, nobody using them (``code_held``)."""
    return (
        DiscountProduct.objects.filter(
            discount_id__in=code_ids,
            discount__b2b_contract_id=contract_id,
            discount__is_active=True,
        )
        .filter(~code_redeemed("discount_id"))
        .filter(~code_held("discount_id"))
    )


def replace_codes(*, contract_id: int, code_ids: list[int]) -> list[InvitationCode]:
    """Deactivate the contract's active, unredeemed, unheld codes among ``code_ids`` and add,
    for each one this call deactivated, a fresh code of the same product and type to the pool.
    Returns the new codes (a code redeemed, in use or already inactive is left as it is and not
    replaced). The codes' rows are locked first, so the set deactivated is the set read."""
    _lock_codes(contract_id, code_ids)
    doomed = list(
        _retirable(contract_id, code_ids)
        .values_list("discount_id", "product_id", "discount__redemption_type")
        .order_by("discount_id")
    )
    if not doomed:
        return []
    Discount.objects.filter(pk__in=[row[0] for row in doomed]).update(
        is_active=False, updated_on=timezone.now()
    )
    fresh: list[InvitationCode] = []
    for redemption_type, product_ids in _grouped(doomed).items():
        fresh += _create(
            contract_id=contract_id,
            product_ids=product_ids,
            redemption_type=redemption_type,
            pooled=True,
        )
    return fresh


def _grouped(rows: list[tuple]) -> dict[str, list[int]]:
    """The product ids of ``rows`` by the type of their code."""
    groups: dict[str, list[int]] = {}
    for _, product_id, redemption_type in rows:
        groups.setdefault(redemption_type, []).append(product_id)
    return groups


def retire_codes(*, contract_id: int, code_ids: list[int], replace: bool) -> list[InvitationCode]:
    """Deactivate the contract's active, unredeemed, unheld codes among ``code_ids``; with
    ``replace``, add a fresh code of the same product and type to the pool for each one
    deactivated (``replace_codes``). Returns the fresh codes."""
    if replace:
        return replace_codes(contract_id=contract_id, code_ids=code_ids)
    _lock_codes(contract_id, code_ids)
    Discount.objects.filter(pk__in=_retirable(contract_id, code_ids).values("discount_id")).update(
        is_active=False, updated_on=timezone.now()
    )
    return []
