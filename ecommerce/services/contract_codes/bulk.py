"""Set-based statements on the enrollment codes of a B2B contract.

b2b decides what a contract's codes should be (``b2b.services.codes`` plans it); this module
carries it out on ecommerce's tables, given plain values: a contract id, product ids, counts, a
price. Each change comes with the count of the rows it would change, so that a plan can be shown
before it is applied (dry runs).

Every function issues a fixed number of statements, or one per batch of codes; none issues a
statement per code. What a new code is, and the two ways batches of them are inserted (generated
inside the database on PostgreSQL, through the ORM elsewhere), are ``code_creation``'s.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from ecommerce.enums import RedemptionType
from ecommerce.models import ContractCodeCensus, ContractCodeTerms, Discount, DiscountProduct
from ecommerce.services.contract_codes.creation import insert_pool_codes
from ecommerce.services.contract_codes.reads import (
    CENSUS_STATE,
    code_held,
    code_in_pending_order,
    code_redeemed,
)

Progress = Callable[[str, int, int], None]  # (step, done, total)


def _codes(contract_id: int) -> QuerySet[Discount]:
    return Discount.objects.filter(b2b_contract_id=contract_id)


@dataclass(frozen=True)
class CodeStamp:
    """What every code of a contract is used at, from the contract's terms: the price, and the
    dates it can be used between (None: open on that side). Kept once per contract, in its
    ``ContractCodeTerms`` row, not on the codes."""

    price: Decimal
    activation: datetime | None = None
    expiration: datetime | None = None


@dataclass(frozen=True)
class StampChanges:
    """What giving a contract's codes new terms changes: how many codes then sell at another
    price, how many between other dates, and whether the terms row is written at all."""

    repriced: int = 0
    redated: int = 0
    terms: bool = False


def contract_terms(contract_id: int) -> CodeStamp | None:
    """The terms the contract's codes are used at now; None before it has any (one query)."""
    row = ContractCodeTerms.objects.filter(contract_id=contract_id).first()
    if row is None:
        return None
    return CodeStamp(
        price=row.amount, activation=row.activation_date, expiration=row.expiration_date
    )


def count_codes_to_restamp(
    contract_id: int, stamp: CodeStamp, *, codes: int | None = None
) -> StampChanges:
    """What ``set_terms`` would change: the contract's codes share one terms row, so either all
    of them move or none. ``codes`` is how many codes the contract has, when the caller knows
    (the census); otherwise they are counted. Two queries at most."""
    terms = contract_terms(contract_id)
    if terms == stamp:
        return StampChanges()
    price_moves = terms is None or terms.price != stamp.price
    dates = (stamp.activation, stamp.expiration)
    dates_move = dates != ((terms.activation, terms.expiration) if terms else (None, None))
    if codes is None:
        codes = _codes(contract_id).count() if price_moves or dates_move else 0
    return StampChanges(
        repriced=codes if price_moves else 0, redated=codes if dates_move else 0, terms=True
    )


def set_terms(contract_id: int, stamp: CodeStamp) -> None:
    """Make ``stamp`` the price and dates of every code of the contract: one statement on one
    row (``ContractCodeTerms``), whatever the number of codes."""
    ContractCodeTerms.objects.bulk_create(
        [_terms_row(contract_id, stamp)],
        update_conflicts=True,
        unique_fields=["contract"],
        update_fields=["amount", "activation_date", "expiration_date", "updated_on"],
    )


def ensure_terms(contract_id: int, stamp: CodeStamp) -> None:
    """Give the contract terms if it has none yet, leaving existing ones (one statement): codes
    made outside a reconciliation (an invitation's) never go without a price."""
    ContractCodeTerms.objects.bulk_create([_terms_row(contract_id, stamp)], ignore_conflicts=True)


def _terms_row(contract_id: int, stamp: CodeStamp) -> ContractCodeTerms:
    return ContractCodeTerms(
        contract_id=contract_id,
        amount=stamp.price,
        activation_date=stamp.activation,
        expiration_date=stamp.expiration,
    )


def fold_census(contract_id: int) -> None:
    """Replace the contract's census rows by one per state (their sums); one statement. The
    rows other transactions are adding meanwhile are not seen and stay as they are."""
    if connection.vendor != "postgresql":
        return
    census = ContractCodeCensus._meta.db_table
    state = ", ".join(CENSUS_STATE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH folded AS (
                DELETE FROM {census} WHERE contract_id = %(contract)s RETURNING {state}, n
            )
            INSERT INTO {census} (contract_id, {state}, n)
            SELECT %(contract)s, {state}, sum(n) FROM folded
            GROUP BY {state} HAVING sum(n) <> 0
            """,
            {"contract": contract_id},
        )


def _retype_queryset(contract_id: int, redemption_type: RedemptionType) -> QuerySet[Discount]:
    # Only the pool's codes: a personal code made for one invitation (``is_bulk`` off,
    # ecommerce/services/contract_codes/invitations.py) stays one-time whatever the contract's cap.
    pool = _codes(contract_id).filter(is_bulk=True)
    if redemption_type == RedemptionType.ONE_TIME:
        # Under a cap every code is one-time; a redeemed one is simply used up.
        return pool.exclude(redemption_type=RedemptionType.ONE_TIME)
    # Without a cap, unredeemed codes become unlimited; redeemed one-time codes stay used up.
    return pool.exclude(redemption_type=redemption_type).filter(~code_redeemed())


def count_codes_to_retype(contract_id: int, redemption_type: RedemptionType) -> int:
    return _retype_queryset(contract_id, redemption_type).count()


def retype_codes(contract_id: int, redemption_type: RedemptionType) -> int:
    """Give the contract's codes ``redemption_type``; a redeemed code never becomes reusable."""
    return _retype_queryset(contract_id, redemption_type).update(
        redemption_type=redemption_type, updated_on=timezone.now()
    )


@dataclass(frozen=True)
class UnredeemedCodes:
    """A contract's unredeemed codes, as the deletion of an SSO, free, uncapped contract's codes
    sees them."""

    deletable: int = 0  # nobody is using them and no pending order was placed with them
    to_deactivate: int = 0  # active, placed in a pending order past the hold: kept, deactivated
    held: int = 0  # in use right now (``code_held``): left as they are


def _unredeemed(contract_id: int) -> QuerySet[Discount]:
    return _codes(contract_id).filter(~code_redeemed())


def count_unredeemed_codes(contract_id: int, *, now: datetime | None = None) -> UnredeemedCodes:
    """What ``delete_unredeemed_codes`` would do (one query)."""
    now = now or timezone.now()
    held = code_held(now=now)
    in_order = Q(code_in_pending_order())
    counts = _unredeemed(contract_id).aggregate(
        deletable=Count("pk", filter=~held & ~in_order),
        to_deactivate=Count("pk", filter=~held & in_order & Q(is_active=True)),
        held=Count("pk", filter=held),
    )
    return UnredeemedCodes(**counts)


def _delete(codes: QuerySet[Discount]) -> int:
    doomed = codes.values("pk")
    DiscountProduct.objects.filter(discount_id__in=doomed).delete()
    _, deleted = Discount.objects.filter(pk__in=doomed).delete()
    return deleted.get(Discount._meta.label, 0)  # the codes, not the basket rows they took along


def _lock(codes: QuerySet[Discount]) -> None:
    """Lock these codes' rows until the transaction ends, waiting for any transaction that holds
    one (a checkout locks the code it uses until it commits); one statement, no rows fetched.

    A statement that starts afterwards sees what those transactions committed: read committed
    gives each statement a fresh view. SQLite, which lets one writer in at a time, needs none.
    """
    if not connection.features.has_select_for_update:
        return
    locked = codes.select_for_update(of=("self",)).values("pk")
    sql, params = locked.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql}) AS locked", params)


def delete_unredeemed_codes(contract_id: int) -> UnredeemedCodes:
    """Delete the contract's codes nobody has redeemed, except those in use; returns what was
    done (``held``: how many were left because a learner is using them).

    A code held by a pending order or a basket (``code_held``) is left as it is. A code a pending
    order was placed with longer ago is deactivated rather than deleted, so the order keeps it
    (a late payment is still recognised). The unredeemed codes are locked first, so a checkout
    that is taking one of them right now is waited for and its hold seen.
    """
    now = timezone.now()
    _lock(_unredeemed(contract_id))
    held = code_held(now=now)
    unheld = _unredeemed(contract_id).filter(~held)
    deleted = _delete(unheld.filter(~code_in_pending_order()))
    deactivated = unheld.filter(code_in_pending_order(), is_active=True).update(
        is_active=False, updated_on=now
    )
    still_held = _unredeemed(contract_id).filter(held).count()
    return UnredeemedCodes(deletable=deleted, to_deactivate=deactivated, held=still_held)


def deactivate_codes_of_products(*, contract_id: int, product_ids: list[int]) -> int:
    """Deactivate the contract's unredeemed codes for these products, which are no longer sold
    (their runs left the contract); one statement. Redeemed codes stay as they are, as history.
    Returns how many were deactivated."""
    return (
        _unredeemed(contract_id)
        .filter(is_active=True, product_links__product_id__in=product_ids)
        .update(is_active=False, updated_on=timezone.now())
    )


def delete_codes_of_contracts(contract_ids: Iterable[int] | QuerySet) -> int:
    """Delete every code of these contracts (ids, or a query of ids); returns how many.

    A redeemed code is protected by its redemptions: the caller checks there are none.
    """
    return _delete(Discount.objects.filter(b2b_contract_id__in=contract_ids))


def _set_active_by_rank(
    contract_id: int,
    counts: dict[int, int],
    *,
    activate: bool,
    now: datetime,
    exclude: Q | None = None,
) -> int:
    """Per product, (de)activate ``counts[product]`` unredeemed codes in one statement:
    deactivation takes the newest codes first, reactivation the oldest deactivated ones first.
    Codes matching ``exclude`` are never taken."""
    limit = Case(
        *[When(product_id=product_id, then=Value(n)) for product_id, n in counts.items()],
        default=Value(0),
        output_field=IntegerField(),
    )
    order = "discount_id" if activate else "-discount_id"
    candidates = DiscountProduct.objects.filter(
        product_id__in=list(counts),
        discount__b2b_contract_id=contract_id,
        discount__is_active=not activate,
    ).filter(~code_redeemed("discount_id"))
    if exclude is not None:
        candidates = candidates.filter(~exclude)
    ranked = candidates.annotate(
        position=Window(RowNumber(), partition_by=["product_id"], order_by=order),
        limit=limit,
    )
    chosen = ranked.filter(position__lte=F("limit")).values("discount_id")
    return Discount.objects.filter(pk__in=chosen).update(is_active=activate, updated_on=now)


def _aside(set_aside: QuerySet | None) -> Q | None:
    return Q(discount_id__in=set_aside) if set_aside is not None else None


def reactivate_codes(
    contract_id: int, counts: dict[int, int], *, set_aside: QuerySet | None = None
) -> int:
    """Per product, reactivate ``counts[product]`` deactivated unredeemed codes, the oldest
    first, in one statement; returns how many. A code among ``set_aside`` (a query of code
    ids: invitations' codes, a revoked one's withdrawn for good) is never reactivated."""
    return _set_active_by_rank(
        contract_id, counts, activate=True, now=timezone.now(), exclude=_aside(set_aside)
    )


def deactivate_unheld_codes(
    contract_id: int, counts: dict[int, int], *, set_aside: QuerySet | None = None
) -> int:
    """Per product, deactivate up to ``counts[product]`` unredeemed codes that nobody is using
    (``code_held``) and that are not among ``set_aside`` (an open invitation's code is its
    invitee's), the newest first; returns how many were deactivated.

    The ranking statement waits for the row lock of a code a checkout is taking, but it cannot
    see the pending order that checkout commits meanwhile. A second statement, which does see
    it, gives such codes back at once; the count returned is then smaller than asked, and the
    caller plans again.
    """
    now = timezone.now()
    exclude = code_held("discount_id", now=now)
    aside = _aside(set_aside)
    taken = _set_active_by_rank(
        contract_id,
        counts,
        activate=False,
        now=now,
        exclude=exclude if aside is None else exclude | aside,
    )
    given_back = (
        _codes(contract_id)
        .filter(is_active=False, updated_on=now)
        .filter(code_held(now=now))
        .update(is_active=True, updated_on=timezone.now())
    )
    return taken - given_back


def create_codes(
    contract_id: int,
    counts: dict[int, int],
    *,
    redemption_type: RedemptionType,
    batch_size: int,
    progress: Progress | None = None,
) -> int:
    """Create ``counts[product]`` new fixed-price sales codes for each product, in batches of
    ``batch_size`` codes; returns how many were made. They sell at the contract's terms
    (``set_terms``, which the caller writes first), not at a price of their own."""
    total = sum(counts.values())
    done = 0
    batch: list[tuple[int, int]] = []  # (product id, how many)
    batch_codes = 0
    for product_id, n in counts.items():
        while n:
            take = min(n, batch_size - batch_codes)
            batch.append((product_id, take))
            batch_codes += take
            n -= take
            if batch_codes == batch_size:
                insert_pool_codes(
                    contract_id=contract_id, batch=batch, redemption_type=redemption_type
                )
                done += batch_codes
                if progress:
                    progress("Creating codes", done, total)
                batch, batch_codes = [], 0
    if batch:
        insert_pool_codes(contract_id=contract_id, batch=batch, redemption_type=redemption_type)
        done += batch_codes
        if progress:
            progress("Creating codes", done, total)
    return done
