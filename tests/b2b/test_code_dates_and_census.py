"""A contract's codes are used at its price and dates, kept in one terms row per contract; the
census lets a no-op reconciliation skip the codes.

The census (``ecommerce.models.ContractCodeCensus``) is kept by PostgreSQL triggers: each test
here compares it with a count made from the code tables themselves after every kind of write.
"""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from b2b.enums import IntegrationType
from b2b.services.codes.reconcile import reconcile_contract_codes
from ecommerce.models import (
    ContractCodeCensus,
    ContractCodeTerms,
    Discount,
    DiscountRedemption,
)
from ecommerce.selectors import with_code_terms
from tests.b2b.helpers import (
    ZERO,
    census_states,
    change,
    codes,
    contract_with_products,
    counted_states,
    reconcile,
    redeem,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the census is kept by PostgreSQL triggers")


def test_census_follows_every_kind_of_write():
    contract, (first, second) = contract_with_products(products=2, max_learners=4)
    reconcile(contract)  # creation
    assert census_states(contract) == counted_states(contract)
    assert sum(n for *_, n in census_states(contract)) == 8
    learner_code = codes(first).order_by("pk")[0]
    redemption = redeem(learner_code)  # a first redemption
    redeem(learner_code)  # a second one changes nothing
    assert census_states(contract) == counted_states(contract)
    change(contract, max_learners=2)  # deactivation by rank
    assert census_states(contract) == counted_states(contract)
    change(contract, enrollment_fixed_price=Decimal("30.00"), contract_end=date(2031, 1, 1))
    assert census_states(contract) == counted_states(contract)
    change(contract, max_learners=None)  # retype, deactivate down to one per product
    assert census_states(contract) == counted_states(contract)
    DiscountRedemption.objects.filter(discount=learner_code).exclude(pk=redemption.pk).delete()
    assert census_states(contract) == counted_states(contract)  # still redeemed once
    DiscountRedemption.objects.filter(pk=redemption.pk).delete()  # its last redemption
    assert census_states(contract) == counted_states(contract)
    contract.integration_type = IntegrationType.SSO
    contract.save()
    change(contract, enrollment_fixed_price=None)  # SSO, free, uncapped: deletion
    assert census_states(contract) == counted_states(contract) == set()
    assert codes(second).count() == 0


def test_reconciliation_folds_the_census_to_a_row_per_state():
    contract, _ = contract_with_products(products=3, max_learners=5)
    reconcile(contract)
    change(contract, max_learners=3)
    assert ContractCodeCensus.objects.filter(contract_id=contract.pk).count() == 6  # 3 x 2 states
    assert census_states(contract) == counted_states(contract)


def _sql_of_forced_reconciliation(contract) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        result = reconcile_contract_codes(contract_id=contract.pk, force=True)
    assert result.plan.is_noop
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("terms", [{"max_learners": 6}, {}, {"contract_start": date(2030, 1, 1)}])
def test_a_no_op_reads_the_census_not_the_codes(terms):
    small, _ = contract_with_products(products=1, max_learners=2)
    big, _ = contract_with_products(products=3, **terms)
    for contract in (small, big):
        reconcile(contract)
    small_sql = _sql_of_forced_reconciliation(small)
    big_sql = _sql_of_forced_reconciliation(big)
    assert len(small_sql) == len(big_sql) == 11, big_sql  # the census and the terms row
    for sql in big_sql:
        assert '"ecommerce_discount"' not in sql
        assert '"ecommerce_discountproduct"' not in sql


def test_a_redeemed_code_keeps_a_capped_contract_in_line():
    contract, (product,) = contract_with_products(products=1, max_learners=3)
    reconcile(contract)
    redeem(codes(product).order_by("pk")[0])
    assert reconcile(contract).is_noop
    assert codes(product).count() == 3


def test_a_code_changed_by_hand_is_seen_and_put_back():
    contract, (product,) = contract_with_products(products=1, max_learners=3)
    reconcile(contract)
    code = codes(product).order_by("pk")[0]
    code.is_active = False
    code.save()
    plan = reconcile(contract)
    assert (plan.codes_to_reactivate, plan.codes_to_create) == (1, 0)
    ContractCodeTerms.objects.filter(pk=contract.pk).update(amount=Decimal("9.00"))
    plan = reconcile(contract)
    assert (plan.terms_change, plan.codes_to_reprice) == (True, 3)
    assert reconcile(contract).is_noop


def test_a_contract_code_cannot_carry_a_price_or_dates_of_its_own():
    contract, (product,) = contract_with_products(products=1, max_learners=1)
    reconcile(contract)
    code = codes(product).get()
    for column, value in (
        ("amount", Decimal("9.00")),
        ("activation_date", datetime(2027, 1, 1, tzinfo=ZoneInfo("UTC"))),
        ("expiration_date", datetime(2027, 1, 1, tzinfo=ZoneInfo("UTC"))),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Discount.objects.filter(pk=code.pk).update(**{column: value})
    with pytest.raises(IntegrityError), transaction.atomic():
        Discount.objects.create(discount_code="no-amount", discount_type="fixed-price")


def _stamps(contract) -> set[tuple]:
    return set(
        with_code_terms(contract.discounts.all())
        .values_list("price", "usable_from", "usable_until")
        .distinct()
    )


def test_codes_use_the_contract_dates_in_the_site_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    zone = ZoneInfo("America/New_York")
    contract, _ = contract_with_products(
        products=2,
        max_learners=3,
        contract_start=date(2027, 3, 10),
        contract_end=date(2027, 11, 2),
    )
    reconcile(contract)
    start = datetime(2027, 3, 10, tzinfo=zone)
    end = datetime.combine(date(2027, 11, 2), time.max, tzinfo=zone)
    assert _stamps(contract) == {(Decimal("0.00"), start, end)}
    assert end.utcoffset() != start.utcoffset()  # daylight saving time ended in between
    terms = ContractCodeTerms.objects.get(pk=contract.pk)
    assert (terms.amount, terms.activation_date, terms.expiration_date) == (ZERO, start, end)


def _code_versions(contract) -> list[tuple]:
    """Each code's row version (xmin) and ``updated_on``: they move when its row is written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, xmin::text, updated_on FROM ecommerce_discount "
            "WHERE b2b_contract_id = %s ORDER BY id",
            [contract.pk],
        )
        return cursor.fetchall()


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]


def test_a_date_change_writes_one_terms_row_not_the_codes():
    contract, (product, _) = contract_with_products(
        products=2, max_learners=3, contract_start=date(2027, 1, 1), contract_end=date(2027, 6, 30)
    )
    reconcile(contract)
    redeem(codes(product).order_by("pk")[0])
    before = _code_versions(contract)
    with CaptureQueriesContext(connection) as queries:
        plan = change(contract, contract_end=date(2027, 12, 31))
    assert (plan.terms_change, plan.codes_to_redate, plan.codes_to_reprice) == (True, 6, 0)
    assert plan.summary_lines()[-1] == "  move the dates of 6 codes"
    assert _code_versions(contract) == before  # no code row was written
    assert not [sql for sql in _writes(queries) if '"ecommerce_discount"' in sql.split("(")[0]]
    utc = ZoneInfo("UTC")
    assert _stamps(contract) == {
        (
            Decimal("0.00"),
            datetime(2027, 1, 1, tzinfo=utc),
            datetime(2027, 12, 31, 23, 59, 59, 999999, tzinfo=utc),
        )
    }
    plan = change(contract, contract_start=None, contract_end=None)
    assert plan.codes_to_redate == 6
    assert _stamps(contract) == {(Decimal("0.00"), None, None)}
    assert _code_versions(contract) == before


def _price_change_queries(contract) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        plan = change(contract, enrollment_fixed_price=Decimal("40.00"))
    assert plan.terms_change
    return [q["sql"] for q in queries.captured_queries]


def test_a_price_change_writes_one_row_in_constant_queries():
    small, _ = contract_with_products(products=1, max_learners=2)
    big, (product, _, _) = contract_with_products(products=3, max_learners=40)
    for contract in (small, big):
        reconcile(contract)
    redeem(codes(product).order_by("pk")[0])
    before = _code_versions(big)
    assert len(before) == 120
    small_sql = _price_change_queries(small)
    big_sql = _price_change_queries(big)
    assert len(small_sql) == len(big_sql)
    assert _code_versions(big) == before  # not one of the 120 codes was rewritten
    terms_writes = [sql for sql in _writes([{"sql": s} for s in big_sql]) if "codeterms" in sql]
    assert len(terms_writes) == 1
    assert not [sql for sql in big_sql if sql.startswith('UPDATE "ecommerce_discount" ')]
    assert _stamps(big) == {(Decimal("40.00"), None, None)}
    plan = reconcile(big)
    assert plan.is_noop  # and the change is complete


def test_a_price_change_plans_the_codes_it_moves():
    contract, _ = contract_with_products(products=2, max_learners=3)
    reconcile(contract)
    plan = change(contract, enrollment_fixed_price=Decimal("10.00"))
    assert (plan.codes_to_reprice, plan.codes_to_redate, plan.products_to_reprice) == (6, 0, 2)
    assert _stamps(contract) == {(Decimal("10.00"), None, None)}
