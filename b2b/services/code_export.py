"""The enrollment-codes CSV: one row per usable or redeemed code of a contract, streamed."""

import csv
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from b2b.models import ContractPage
from courses.models import CourseRun
from ecommerce.constants import CART_ADD_PATH
from ecommerce.enums import RedemptionType
from ecommerce.models import DiscountProduct, DiscountRedemption

CSV_HEADER = ["Code", "Product", "Redeemed", "Product URL"]
CHUNK_SIZE = 5000


def product_url(product_id: int) -> str:
    """The address that puts the product in the learner's cart."""
    return f"{settings.SITE_BASE_URL}{CART_ADD_PATH}?product_id={product_id}"


def _code_rows(contract: ContractPage):
    redemptions = DiscountRedemption.objects.filter(discount_id=OuterRef("discount_id"))
    run = CourseRun.objects.filter(pk=OuterRef("product__object_id"))
    return (
        DiscountProduct.objects.filter(discount__b2b_contract=contract)
        .filter(Q(discount__is_active=True) | Exists(redemptions))
        .annotate(
            times_redeemed=Coalesce(
                Subquery(
                    redemptions.order_by()
                    .values("discount_id")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            redeemer=Subquery(
                redemptions.order_by("redemption_date").values("redeemed_by__email")[:1]
            ),
            run_id=Subquery(run.values("courseware_id")[:1]),
            run_title=Subquery(run.values("title")[:1]),
        )
        .order_by("product_id", "discount_id")
        .values_list(
            "discount__discount_code",
            "discount__redemption_type",
            "product_id",
            "run_title",
            "run_id",
            "times_redeemed",
            "redeemer",
        )
    )


def write_codes_csv(contract: ContractPage, path: Path) -> int:
    """Write the contract's codes CSV to ``path``; returns the number of code rows."""
    base_url = product_url(0)[: -len("0")]
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for code, redemption_type, product_id, title, run_id, times, redeemer in _code_rows(
            contract
        ).iterator(chunk_size=CHUNK_SIZE):
            if redemption_type == RedemptionType.UNLIMITED:
                redeemed = str(times)
            else:
                redeemed = redeemer or "No"
            writer.writerow([code, f"{title} ({run_id})", redeemed, f"{base_url}{product_id}"])
            count += 1
    return count
