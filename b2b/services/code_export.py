"""The enrollment-codes CSV: one row per usable or redeemed code of a contract, streamed."""

import csv
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Min, Q

from b2b.models import ContractPage
from courses.models import CourseRun
from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import RedemptionType
from ecommerce.models import DiscountProduct, Product

CSV_HEADER = ["Code", "Product", "Redeemed", "Product URL"]
CHUNK_SIZE = 5000


def product_url(product_id: int) -> str:
    """The address that puts the product in the learner's cart."""
    return f"{settings.SITE_BASE_URL}{CART_ADD_PATH}?product_id={product_id}"


def _run_labels(contract: ContractPage) -> dict[int, str]:
    """Product id -> "title (run id)" for the contract's products (one query per table)."""
    run_type = ContentType.objects.get_for_model(CourseRun)
    product_runs = dict(
        Product.objects.filter(
            content_type=run_type,
            pk__in=DiscountProduct.objects.filter(discount__b2b_contract=contract).values(
                "product_id"
            ),
        ).values_list("pk", "object_id")
    )
    runs = {
        run.pk: f"{run.title} ({run.courseware_id})"
        for run in CourseRun.objects.filter(pk__in=set(product_runs.values())).only(
            "title", "courseware_id"
        )
    }
    return {product_id: runs.get(run_id, "") for product_id, run_id in product_runs.items()}


def _code_rows(contract: ContractPage):
    """Usable or redeemed codes with their redemption count and redeemer (one query)."""
    return (
        DiscountProduct.objects.filter(discount__b2b_contract=contract)
        .values_list("discount__discount_code", "discount__redemption_type", "product_id")
        .annotate(
            times_redeemed=Count("discount__redemptions"),
            redeemer=Min("discount__redemptions__redeemed_by__email"),
        )
        .filter(Q(discount__is_active=True) | Q(times_redeemed__gt=0))
        .order_by("product_id", "discount_id")
    )


def iter_code_rows(contract: ContractPage) -> Iterator[list[str]]:
    """The CSV's rows, header first, streamed from the database in chunks."""
    base_url = product_url(0)[: -len("0")]
    labels = _run_labels(contract)
    yield CSV_HEADER
    for code, redemption_type, product_id, times, redeemer in _code_rows(contract).iterator(
        chunk_size=CHUNK_SIZE
    ):
        unlimited = redemption_type == RedemptionType.UNLIMITED
        redeemed = str(times) if unlimited else (redeemer or "No")
        yield [code, labels[product_id], redeemed, f"{base_url}{product_id}"]


def write_codes_csv(contract: ContractPage, path: Path) -> int:
    """Write the contract's codes CSV to ``path``; returns the number of code rows."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        rows = iter_code_rows(contract)
        writer.writerow(next(rows))
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


class _Echo:
    """A file-like object whose write returns what it was given (for streaming CSV)."""

    def write(self, value: str) -> str:
        return value


def stream_codes_csv(contract: ContractPage) -> Iterator[str]:
    """The CSV as text lines, for a streaming HTTP response."""
    writer = csv.writer(_Echo())
    for row in iter_code_rows(contract):
        yield writer.writerow(row)
