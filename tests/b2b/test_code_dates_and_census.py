"""Codes carry their contract's dates; the census lets a no-op reconciliation skip the codes.

The census (``ecommerce.models.ContractCodeCensus``) is kept by PostgreSQL triggers: each test
here compares it with a count made from the code tables themselves after every kind of write.
"""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef
from django.test.utils import CaptureQueriesContext

from b2b.enums import IntegrationType
from b2b.services.codes import reconcile_contract_codes
from ecommerce.models import ContractCodeCensus, DiscountProduct, DiscountRedemption
from ecommerce.selectors import contract_code_census
from tests.b2b.codes_helpers import change, codes, contract_with_products, reconcile, redeem

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

STATE = (
    "product_id",
    "is_active",
    "redeemed",
    "amount",
    "redemption_type",
    "activation_date",
    "expiration_date",
)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the census is kept by PostgreSQL triggers")


def _counted(contract) -> set[tuple]:
    """The contract's codes grouped by state, counted from the code tables."""
    rows = (
        DiscountProduct.objects.filter(discount__b2b_contract=contract)
        .annotate(
            redeemed=Exists(DiscountRedemption.objects.filter(discount_id=OuterRef("discount_id")))
        )
        .values(
            "product_id",
            "redeemed",
            is_active=F("discount__is_active"),
            amount=F("discount__amount"),
            redemption_type=F("discount__redemption_type"),
            activation_date=F("discount__activation_date"),
            expiration_date=F("discount__expiration_date"),
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(*(row[k] for k in STATE), row["n"]) for row in rows}


def _census(contract) -> set[tuple]:
    return {
        (*(getattr(group, k) for k in STATE), group.codes)
        for group in contract_code_census(contract.pk)
    }


def test_census_follows_every_kind_of_write():
    contract, (first, second) = contract_with_products(products=2, max_learners=4)
    reconcile(contract)  # creation
    assert _census(contract) == _counted(contract)
    assert sum(n for *_, n in _census(contract)) == 8
    learner_code = codes(first).order_by("pk")[0]
    redemption = redeem(learner_code)  # a first redemption
    redeem(learner_code)  # a second one changes nothing
    assert _census(contract) == _counted(contract)
    change(contract, max_learners=2)  # deactivation by rank
    assert _census(contract) == _counted(contract)
    change(contract, enrollment_fixed_price=Decimal("30.00"), contract_end=date(2031, 1, 1))
    assert _census(contract) == _counted(contract)
    change(contract, max_learners=None)  # retype, deactivate down to one per product
    assert _census(contract) == _counted(contract)
    DiscountRedemption.objects.filter(discount=learner_code).exclude(pk=redemption.pk).delete()
    assert _census(contract) == _counted(contract)  # still redeemed once
    DiscountRedemption.objects.filter(pk=redemption.pk).delete()  # its last redemption
    assert _census(contract) == _counted(contract)
    contract.integration_type = IntegrationType.SSO
    contract.save()
    change(contract, enrollment_fixed_price=None)  # SSO, free, uncapped: deletion
    assert _census(contract) == _counted(contract) == set()
    assert codes(second).count() == 0


def test_reconciliation_folds_the_census_to_a_row_per_state():
    contract, _ = contract_with_products(products=3, max_learners=5)
    reconcile(contract)
    change(contract, max_learners=3)
    assert ContractCodeCensus.objects.filter(contract_id=contract.pk).count() == 6  # 3 x 2 states
    assert _census(contract) == _counted(contract)


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
    assert len(small_sql) == len(big_sql) == 10, big_sql
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
    code.amount = Decimal("9.00")
    code.save()
    assert reconcile(contract).codes_to_reprice == 1
    assert reconcile(contract).is_noop


def _stamps(contract) -> set[tuple]:
    return set(
        codes_of(contract).values_list("amount", "activation_date", "expiration_date").distinct()
    )


def codes_of(contract):
    return contract.discounts.all()


def test_codes_carry_the_contract_dates_in_the_site_time_zone(settings):
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


def test_a_date_change_moves_the_codes_in_one_statement():
    contract, (product, _) = contract_with_products(
        products=2, max_learners=3, contract_start=date(2027, 1, 1), contract_end=date(2027, 6, 30)
    )
    reconcile(contract)
    redeem(codes(product).order_by("pk")[0])
    with CaptureQueriesContext(connection) as queries:
        plan = change(contract, contract_end=date(2027, 12, 31))
    assert (plan.codes_to_redate, plan.codes_to_reprice) == (6, 0)
    assert plan.summary_lines()[-1] == "  move the dates of 6 codes"
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len([sql for sql in updates if sql.startswith('UPDATE "ecommerce_discount" ')]) == 1
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


def test_a_price_change_writes_only_the_codes_that_differ():
    contract, (product, _) = contract_with_products(products=2, max_learners=3)
    reconcile(contract)
    code = codes(product).order_by("pk")[0]
    code.amount = Decimal("10.00")
    code.save()
    plan = change(contract, enrollment_fixed_price=Decimal("10.00"))
    assert (plan.codes_to_reprice, plan.products_to_reprice) == (5, 2)
    assert _stamps(contract) == {(Decimal("10.00"), None, None)}
