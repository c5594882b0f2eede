"""Migration ecommerce 0007 on codes made under the old schema (each code carrying its
contract's price and dates): every contract gets the terms its codes carried, the codes' own
columns are emptied, other discounts keep theirs, and the census is rebuilt without prices."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from b2b.models import ContractCodeStatus
from ecommerce.models import (
    ContractCodeTerms,
    Discount,
)
from ecommerce.selectors import with_code_terms
from tests.b2b.helpers import census_states, contract_with_products, counted_states

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BEFORE = [("ecommerce", "0006_contract_code_census")]
START = datetime(2027, 1, 1, tzinfo=UTC)
END = datetime(2027, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)


def _old_codes(apps, contract, product, stamps):
    """Codes as the old schema made them: each carries a price and dates of its own."""
    OldDiscount = apps.get_model("ecommerce", "Discount")
    OldLink = apps.get_model("ecommerce", "DiscountProduct")
    made = []
    for amount, start, end in stamps:
        code = OldDiscount.objects.create(
            discount_code=f"old-{contract.pk}-{len(made)}-{amount}",
            amount=amount,
            activation_date=start,
            expiration_date=end,
            discount_type="fixed-price",
            redemption_type="one-time",
            payment_type="sales",
            is_bulk=True,
            b2b_contract_id=contract.pk,
        )
        OldLink.objects.create(discount_id=code.pk, product_id=product.pk)
        made.append(code.pk)
    return made


def test_codes_made_under_the_old_schema_get_their_contracts_terms(site_tree):
    dated, (dated_product,) = contract_with_products(products=1)
    mixed, (mixed_product,) = contract_with_products(products=1)
    ContractCodeStatus.objects.get_or_create(contract=mixed)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        dated_codes = _old_codes(old, dated, dated_product, [(Decimal("50.00"), START, END)] * 3)
        # An unfinished re-pricing: two codes at the new price, one still at the old.
        mixed_codes = _old_codes(
            old,
            mixed,
            mixed_product,
            [(Decimal("20.00"), None, None)] * 2 + [(Decimal("10.00"), None, None)],
        )
        plain = old.get_model("ecommerce", "Discount").objects.create(
            discount_code="plain",
            amount=Decimal("5.00"),
            activation_date=START,
            discount_type="dollars-off",
            redemption_type="unlimited",
            payment_type="sales",
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    terms = {t.contract_id: t for t in ContractCodeTerms.objects.all()}
    assert set(terms) == {dated.pk, mixed.pk}
    assert (
        terms[dated.pk].amount,
        terms[dated.pk].activation_date,
        terms[dated.pk].expiration_date,
    ) == (Decimal("50.00"), START, END)
    assert (terms[mixed.pk].amount, terms[mixed.pk].activation_date) == (Decimal("20.00"), None)
    # Codes no longer hold a price or dates; they read their contract's.
    contract_codes = Discount.objects.filter(pk__in=dated_codes + mixed_codes)
    assert set(contract_codes.values_list("amount", "activation_date", "expiration_date")) == {
        (None, None, None)
    }
    assert set(
        with_code_terms(Discount.objects.filter(pk__in=dated_codes)).values_list(
            "price", "usable_from", "usable_until"
        )
    ) == {(Decimal("50.00"), START, END)}
    # The contract whose codes disagreed is asked to reconcile again; the other is not.
    status = ContractCodeStatus.objects.get(pk=mixed.pk)
    assert (status.requested_version, status.pending_since is not None) == (1, True)
    assert not ContractCodeStatus.objects.filter(pk=dated.pk, requested_version__gt=0).exists()
    # Any other discount keeps its own terms.
    plain_row = with_code_terms(Discount.objects.filter(pk=plain.pk)).get()
    assert (plain_row.amount, plain_row.price, plain_row.usable_from) == (
        Decimal("5.00"),
        Decimal("5.00"),
        START,
    )
    assert census_states(dated) == counted_states(dated)
    assert census_states(mixed) == counted_states(mixed)
