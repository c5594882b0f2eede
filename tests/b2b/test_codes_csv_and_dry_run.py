"""The codes CSV written by `b2b_list contracts --codes`, and dry runs that write nothing."""

import csv
import re
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from b2b.models import ContractCodeStatus
from courses.models import CourseRun
from ecommerce.models import Discount, Product
from ecommerce.selectors import with_code_terms
from tests.b2b.helpers import codes, contract_with_products, reconcile, redeem
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_codes_csv_format(run_command, tmp_path, settings, monkeypatch):
    settings.SITE_BASE_URL = "https://learn.example.edu"
    monkeypatch.chdir(tmp_path)
    contract, (first, second) = contract_with_products(max_learners=2)
    reconcile(contract)
    learner = f.UserFactory(email="ada@example.com")
    used = codes(first).order_by("pk").first()
    redeem(used, learner)
    deactivated = codes(second).order_by("pk").last()
    Discount.objects.filter(pk=deactivated.pk).update(is_active=False)

    out, _ = run_command("b2b_list", "contracts", "--codes", str(contract.pk))

    rows = _rows(tmp_path / f"codes-{contract.pk}.csv")
    assert rows[0] == ["Code", "Product", "Redeemed", "Product URL"]
    body = rows[1:]
    assert len(body) == 3  # the deactivated, unredeemed code is not usable: left out
    run = CourseRun.objects.get(pk=first.object_id)
    by_code = {row[0]: row for row in body}
    assert by_code[used.discount_code] == [
        used.discount_code,
        f"{run.title} ({run.courseware_id})",
        "ada@example.com",
        f"https://learn.example.edu/cart/add/?product_id={first.pk}",
    ]
    assert deactivated.discount_code not in by_code
    assert sorted(row[2] for row in body) == ["No", "No", "ada@example.com"]
    assert out == f"Wrote 3 codes of contract {contract.pk} to codes-{contract.pk}.csv\n"


def test_unlimited_codes_show_redemption_counts(run_command, tmp_path):
    contract, (product,) = contract_with_products(products=1, max_learners=None)
    reconcile(contract)
    code = codes(product).get()
    redeem(code)
    redeem(code)
    target = tmp_path / "out.csv"
    run_command("b2b_list", "contracts", "--codes", str(contract.pk), "--codes-out", str(target))
    assert _rows(target)[1][2] == "2"


def test_courses_codes_spelling_of_the_spec(run_command, tmp_path):
    contract, _ = contract_with_products(products=1, max_learners=2)
    reconcile(contract)
    target = tmp_path / "codes.csv"
    out, _ = run_command(
        "b2b_list", "courses", "--codes", str(contract.pk), "--codes-out", str(target)
    )
    assert out == f"Wrote 2 codes of contract {contract.pk} to {target}\n"
    with pytest.raises(CommandError, match="the following arguments are required: --codes"):
        run_command("b2b_list", "courses")


def test_codes_export_errors(run_command, tmp_path):
    with pytest.raises(CommandError, match="No contract has id 424242"):
        run_command("b2b_list", "contracts", "--codes", "424242")
    contract, _ = contract_with_products(products=1)
    with pytest.raises(CommandError, match="does not exist"):
        run_command(
            "b2b_list",
            "contracts",
            "--codes",
            str(contract.pk),
            "--codes-out",
            str(tmp_path / "missing" / "x.csv"),
        )


def test_pending_codes_warning(run_command, tmp_path):
    contract, _ = contract_with_products(products=1, max_learners=2)
    ContractCodeStatus.objects.create(contract=contract, requested_version=1)
    ContractCodeStatus.objects.filter(pk=contract.pk).update(pending_since="2026-01-01T00:00Z")
    _, err = run_command(
        "b2b_list", "contracts", "--codes", str(contract.pk), "--codes-out", str(tmp_path / "c.csv")
    )
    assert re.search(r"codes of contract \d+ are pending since 2026-01-01 00:00", err)


def _state():
    return (
        list(
            with_code_terms(Discount.objects.order_by("pk")).values_list(
                "pk", "is_active", "price", "usable_from", "usable_until", "redemption_type"
            )
        ),
        list(Product.objects.order_by("pk").values_list("pk", "price", "is_active")),
        list(CourseRun.objects.order_by("pk").values_list("pk", "b2b_contract_id")),
        list(ContractCodeStatus.objects.values_list("pk", "requested_version")),
    )


def test_modify_dry_run_writes_nothing(run_command, django_capture_on_commit_callbacks):
    contract, _ = contract_with_products(max_learners=5, enrollment_fixed_price=Decimal("10.00"))
    reconcile(contract)
    before = _state()
    with django_capture_on_commit_callbacks() as callbacks:
        out, _ = run_command(
            "b2b_contract",
            "modify",
            str(contract.pk),
            "--max-learners",
            "2",
            "--price",
            "12",
            "--dry-run",
        )
    assert _state() == before
    assert callbacks == []
    contract.refresh_from_db()
    assert contract.max_learners == 5
    assert "Would change max_learners: 5 -> 2" in out
    assert "create 0, reactivate 0, deactivate 6, delete 0" in out
    assert "re-price 10 codes and 2 products" in out
    assert out.rstrip().endswith("Dry run: nothing was written.")


def test_courseware_dry_run_writes_nothing(run_command, django_capture_on_commit_callbacks):
    contract, _ = contract_with_products(products=0, max_learners=4)
    course = f.CourseFactory()
    f.CourseRunFactory(course=course)
    before = _state()
    with django_capture_on_commit_callbacks() as callbacks:
        out, _ = run_command(
            "b2b_contract", "courseware", str(contract.pk), course.readable_id, "--dry-run"
        )
    assert _state() == before
    assert callbacks == []
    assert not contract.courses.exists()
    assert "Would create run course-v1:" in out
    assert "create 4, reactivate 0, deactivate 0, delete 0" in out
