"""Removing courseware takes its unused codes with it, in the removal's own transaction.

`courseware --remove` deactivates the removed runs' products; their unredeemed codes are
deactivated with them (redeemed ones stay, as history), so listings stop counting them usable
and the codes CSV stops handing them out with a dead product URL.
"""

import csv
from decimal import Decimal

import pytest

from b2b.models import ContractCodeStatus
from ecommerce.constants import CART_ADD_PATH
from tests.b2b.helpers import codes, contract_with_products, reconcile, redeem, usable
from tests.support import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract_of_two_runs(site_tree):
    """Cap 3, two runs with their products and 3 codes each; one code of the first redeemed."""
    contract, (kept, removed) = contract_with_products(
        products=2, max_learners=3, enrollment_fixed_price=Decimal("40.00")
    )
    reconcile(contract)
    redeemed = redeem(codes(removed).order_by("pk").first()).discount
    return contract, kept, removed, redeemed


def _csv(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_removal_deactivates_the_removed_runs_unused_codes(
    run_command, contract_of_two_runs, tmp_path
):
    contract, kept, removed, redeemed = contract_of_two_runs
    run = removed.purchasable_object

    # No reconciliation runs here (its task is queued after commit): the codes go with the
    # removal itself.
    out, err = run_command(
        "b2b_contract", "courseware", str(contract.pk), run.courseware_id, "--remove"
    )

    assert out.splitlines()[:3] == [
        f"Detached run {run.courseware_id}",
        "Deactivated 1 products",
        "Deactivated 2 unused enrollment codes",
    ]
    assert err == ""
    assert usable(removed).count() == 0
    assert list(codes(removed).filter(is_active=True)) == [redeemed]  # history, as it was
    assert usable(kept).count() == 3

    listed, _ = run_command("b2b_list", "contracts", "--format", "csv")
    row = next(csv.DictReader(listed.splitlines()))
    assert (row["codes_total"], row["codes_usable"], row["codes_redeemed"]) == ("6", "3", "1")

    path = tmp_path / "codes.csv"
    run_command("b2b_list", "contracts", "--codes", str(contract.pk), "--codes-out", str(path))
    rows = _csv(path)
    dead_url = f"{CART_ADD_PATH}?product_id={removed.pk}"
    assert [r["Code"] for r in rows if r["Product URL"].endswith(dead_url)] == [
        redeemed.discount_code
    ]
    assert len(rows) == 4  # the kept run's 3 usable codes and the redeemed one


def test_reconciliation_after_removal_leaves_them_deactivated(
    run_command, contract_of_two_runs, django_capture_on_commit_callbacks
):
    contract, kept, removed, _redeemed = contract_of_two_runs
    with django_capture_on_commit_callbacks(execute=True):
        run_command(
            "b2b_contract",
            "courseware",
            str(contract.pk),
            removed.purchasable_object.courseware_id,
            "--remove",
        )
    assert not ContractCodeStatus.objects.get(pk=contract.pk).is_pending
    assert usable(removed).count() == 0
    assert usable(kept).count() == 3


def test_dry_run_says_so_and_changes_nothing(run_command, contract_of_two_runs):
    contract, _kept, removed, _redeemed = contract_of_two_runs
    run = removed.purchasable_object
    out, _ = run_command(
        "b2b_contract", "courseware", str(contract.pk), run.courseware_id, "--remove", "--dry-run"
    )
    assert "Would deactivate 2 unused enrollment codes" in out.splitlines()
    assert usable(removed).count() == 2


def test_detaching_a_run_with_enrolled_learners_warns_on_one_line(
    run_command, contract_of_two_runs
):
    contract, _kept, removed, _redeemed = contract_of_two_runs
    run = removed.purchasable_object
    for _ in range(2):
        f.CourseRunEnrollmentFactory(run=run)
    f.CourseRunEnrollmentFactory(run=run, active=False)  # unenrolled: not counted

    _, err = run_command(
        "b2b_contract", "courseware", str(contract.pk), run.courseware_id, "--remove"
    )

    assert err.splitlines() == [
        f"Warning: 2 learners are enrolled in the detached runs ({run.courseware_id}: 2); "
        "they keep their enrollments, outside the contract"
    ]


def test_migration_deactivates_codes_left_by_earlier_removals(contract_of_two_runs):
    """Removals made before this release left the codes usable; the data migration fixes that."""
    from importlib import import_module

    from django.apps import apps

    from ecommerce.models import Product

    _contract, kept, removed, redeemed = contract_of_two_runs
    Product.objects.filter(pk=removed.pk).update(is_active=False)  # as the old removal left it
    assert usable(removed).count() == 2

    migration = import_module("ecommerce.migrations.0005_deactivate_codes_of_removed_courseware")
    migration.deactivate_codes_of_inactive_products(apps, None)

    assert usable(removed).count() == 0
    assert list(codes(removed).filter(is_active=True)) == [redeemed]
    assert usable(kept).count() == 3
