"""Enrollment-code reconciliation: the DESIGN.md table, every transition, and its guarantees."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from b2b.models import ContractCodeStatus, ContractPage
from b2b.services.codes.reconcile import reconcile_contract_codes
from ecommerce.models import Discount, Product
from tests.b2b.helpers import (
    ZERO,
    change,
    codes,
    contract_with_products,
    reconcile,
    redeem,
    summary,
    usable,
)
from tests.support import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("integration", "price", "cap", "expected"),
    [
        ("non-sso", None, 3, (3, 0, 0, 0)),
        ("non-sso", Decimal("10.00"), 3, (3, 0, 0, 0)),
        ("non-sso", None, None, (0, 1, 0, 0)),
        ("non-sso", Decimal("10.00"), None, (0, 1, 0, 0)),
        ("sso", Decimal("10.00"), 3, (3, 0, 0, 0)),
        ("sso", Decimal("10.00"), None, (0, 1, 0, 0)),
        ("sso", None, 3, (0, 0, 0, 0)),
        ("sso", Decimal("0.00"), 3, (0, 0, 0, 0)),
        ("sso", None, None, (0, 0, 0, 0)),
    ],
)
def test_design_table(site_tree, integration, price, cap, expected):
    contract, products = contract_with_products(
        integration_type=integration, enrollment_fixed_price=price, max_learners=cap
    )
    reconcile(contract)
    for product in products:
        assert summary(product) == expected
        for code in codes(product):
            assert code.price == (price or ZERO)
            assert code.amount is None  # the contract's terms row holds it
            assert code.discount_type == "fixed-price"
            assert code.payment_type == "sales"
            assert code.is_bulk is True
            assert code.b2b_contract_id == contract.pk
            assert list(code.products.all()) == [product]


def test_codes_are_distinct_uuids(site_tree):
    import uuid

    contract, _ = contract_with_products(max_learners=50)
    reconcile(contract)
    values = list(Discount.objects.values_list("discount_code", flat=True))
    assert len(values) == len(set(values)) == 100
    assert all(str(uuid.UUID(v)) == v for v in values)


def test_sso_free_capped_keeps_existing_codes_repriced(site_tree):
    contract, (product, _) = contract_with_products(
        integration_type="sso", enrollment_fixed_price=Decimal("10.00"), max_learners=3
    )
    reconcile(contract)
    plan = change(contract, enrollment_fixed_price=None)
    assert plan.codes_to_create == 0 and plan.codes_to_delete == 0
    assert summary(product) == (3, 0, 0, 0)
    assert set(codes(product).values_list("price", flat=True)) == {ZERO}
    assert Product.objects.get(pk=product.pk).price == ZERO


def test_sso_free_uncapped_deletes_only_unredeemed(site_tree):
    contract, (product, other) = contract_with_products(
        integration_type="sso", enrollment_fixed_price=Decimal("10.00"), max_learners=3
    )
    reconcile(contract)
    kept = codes(product).first()
    redeem(kept)
    change(contract, enrollment_fixed_price=None, max_learners=None)
    assert list(codes(product)) == [kept]
    assert summary(product) == (0, 0, 0, 1)
    assert not codes(other).exists()


def test_cap_raised_reactivates_first_then_creates(site_tree):
    contract, (product, _) = contract_with_products(max_learners=5)
    reconcile(contract)
    original = set(codes(product).values_list("pk", flat=True))
    change(contract, max_learners=2)
    assert summary(product) == (2, 0, 3, 0)
    plan = change(contract, max_learners=7)
    assert plan.reactivate[product.pk] == 3 and plan.create[product.pk] == 2
    assert summary(product) == (7, 0, 0, 0)
    assert original <= set(usable(product).values_list("pk", flat=True))


def test_cap_lowered_deactivates_newest_unredeemed_first(site_tree):
    contract, (product, _) = contract_with_products(max_learners=5)
    reconcile(contract)
    ids = sorted(codes(product).values_list("pk", flat=True))
    redeem(Discount.objects.get(pk=ids[-1]))  # the newest is redeemed: it must survive
    change(contract, max_learners=2)
    assert summary(product) == (1, 0, 3, 1)
    assert set(usable(product).values_list("pk", flat=True)) == {ids[0]}
    assert Discount.objects.get(pk=ids[-1]).is_active


def test_cap_below_redeemed_count_never_touches_redeemed(site_tree):
    contract, (product, _) = contract_with_products(max_learners=3)
    reconcile(contract)
    for code in codes(product):
        redeem(code)
    change(contract, max_learners=1)
    assert summary(product) == (0, 0, 0, 3)
    assert codes(product, is_active=True).count() == 3


def test_cap_removed_turns_one_time_codes_unlimited(site_tree):
    contract, (product, _) = contract_with_products(max_learners=3)
    reconcile(contract)
    used = codes(product).first()
    redeem(used)
    change(contract, max_learners=None)
    # Unredeemed codes stay valid and become unlimited; the used one stays used.
    assert summary(product) == (0, 2, 0, 1)
    assert Discount.objects.get(pk=used.pk).redemption_type == "one-time"


def test_cap_added_to_uncapped_contract(site_tree):
    contract, (product, _) = contract_with_products(max_learners=None)
    reconcile(contract)
    unlimited = codes(product).get()
    redeem(unlimited)
    redeem(unlimited)
    change(contract, max_learners=4)
    # The used unlimited code becomes a used one-time code and counts toward the cap.
    assert summary(product) == (3, 0, 0, 1)
    assert Discount.objects.get(pk=unlimited.pk).redemption_type == "one-time"


@pytest.mark.parametrize(
    ("start", "new", "expected"),
    [
        (Decimal("10.00"), Decimal("25.00"), Decimal("25.00")),
        (Decimal("10.00"), Decimal("5.00"), Decimal("5.00")),
        (Decimal("10.00"), None, ZERO),
        (None, Decimal("15.00"), Decimal("15.00")),
    ],
)
def test_price_changes_reprice_products_and_codes(site_tree, start, new, expected):
    contract, products = contract_with_products(max_learners=2, enrollment_fixed_price=start)
    reconcile(contract)
    redeem(codes(products[0]).first())
    change(contract, enrollment_fixed_price=new)
    for product in products:
        assert Product.objects.get(pk=product.pk).price == expected
        assert set(codes(product).values_list("price", flat=True)) == {expected}
        assert codes(product).count() == 2


def test_sso_and_non_sso_switch(site_tree):
    contract, (product, _) = contract_with_products(integration_type="sso", max_learners=2)
    reconcile(contract)
    assert summary(product) == (0, 0, 0, 0)
    ContractPage.objects.filter(pk=contract.pk).update(integration_type="non-sso")
    contract.refresh_from_db()
    reconcile(contract)
    assert summary(product) == (2, 0, 0, 0)
    ContractPage.objects.filter(pk=contract.pk).update(integration_type="sso")
    contract.refresh_from_db()
    reconcile(contract)
    assert summary(product) == (2, 0, 0, 0)  # SSO, free, capped: existing codes stay


def test_new_courseware_gets_codes(site_tree):
    contract, products = contract_with_products(products=1, max_learners=3)
    reconcile(contract)
    run = f.CourseRunFactory(b2b_contract=contract, run_tag="2026_C9")
    new_product = f.ProductFactory(purchasable_object=run, price=ZERO)
    plan = reconcile(contract)
    assert plan.create == {new_product.pk: 3}
    assert summary(new_product) == (3, 0, 0, 0)
    assert summary(products[0]) == (3, 0, 0, 0)


def test_deactivation_changes_no_codes_and_reactivation_keeps_them(
    site_tree, django_capture_on_commit_callbacks
):
    contract, (product, _) = contract_with_products(max_learners=3)
    reconcile(contract)
    before = list(codes(product).order_by("pk").values_list("pk", "is_active", "redemption_type"))
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    change(contract, active=False)
    assert (
        ContractCodeStatus.objects.get(pk=contract.pk).requested_version == status.requested_version
    )
    change(contract, active=True)
    after = list(codes(product).order_by("pk").values_list("pk", "is_active", "redemption_type"))
    assert before == after


def test_idempotent(site_tree):
    contract, (product, _) = contract_with_products(
        max_learners=4, enrollment_fixed_price=Decimal("9.00")
    )
    reconcile(contract)
    snapshot = list(codes(product).order_by("pk").values())
    with CaptureQueriesContext(connection) as queries:
        plan = reconcile(contract)
    assert plan.is_noop
    assert list(codes(product).order_by("pk").values()) == snapshot
    assert len(queries) <= 12


def test_unrequested_run_is_skipped(site_tree):
    contract, _ = contract_with_products(max_learners=2)
    result = reconcile_contract_codes(contract_id=contract.pk)
    assert result.skipped is True  # nothing was requested yet for this factory-made contract
    assert not Discount.objects.exists()


@pytest.mark.postgres  # SQLite's parameter limit splits bulk inserts into batches of ~80 rows
def test_query_count_does_not_grow_with_the_cap(site_tree):
    counts = []
    for cap in (3, 300):
        contract, _ = contract_with_products(products=3, max_learners=cap)
        with CaptureQueriesContext(connection) as queries:
            reconcile(contract)
        counts.append(len(queries))
        with CaptureQueriesContext(connection) as queries:
            for step in (
                {"max_learners": cap // 3},
                {"max_learners": None},
                {"enrollment_fixed_price": Decimal("3.00")},
            ):
                change(contract, **step)
        counts.append(len(queries))
    assert counts[0] == counts[2]  # first reconciliation, cap 3 vs cap 300
    assert counts[1] == counts[3]  # cap lowered, removed, re-priced
    assert Discount.objects.filter(b2b_contract__max_learners=None).count() >= 300


def test_progress_is_reported_to_the_context_reporter(site_tree, settings):
    from b2b.services.codes.reconcile import progress_reporter

    settings.B2B_CODE_BATCH_SIZE = 4
    contract, _ = contract_with_products(products=2, max_learners=5)
    seen = []
    token = progress_reporter.set(lambda step, done, total: seen.append((step, done, total)))
    try:
        reconcile(contract)
    finally:
        progress_reporter.reset(token)
    assert seen == [
        ("Creating codes", 4, 10),
        ("Creating codes", 8, 10),
        ("Creating codes", 10, 10),
    ]
    assert Discount.objects.filter(b2b_contract=contract).count() == 10


def test_sync_codes_command(run_command):
    contract, _ = contract_with_products(products=2, max_learners=3)
    out, _ = run_command("b2b_contract", "sync-codes", str(contract.pk))
    assert "create 6, reactivate 0, deactivate 0, delete 0" in out
    out, _ = run_command("b2b_contract", "sync-codes", str(contract.pk))
    assert out == "Codes: already up to date\n"
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert status.pending_since is None and status.reconciled_on is not None


def test_sync_codes_unknown_contract(run_command):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No contract has id 31337"):
        run_command("b2b_contract", "sync-codes", "31337")
    assert not ContractCodeStatus.objects.exists()
