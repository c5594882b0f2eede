"""The products of course runs: the only module that creates, re-prices or deactivates them.

A course run is sold through at most one active product (a partial unique index holds it); its
description names the run. b2b gives contract runs their products here, and `import_courserun`
prices an imported run here. Reads are in ``ecommerce.selectors`` (``run_products``,
``active_products_by_run``) and, for b2b, ``ecommerce.services.contract_codes.reads``
(``active_product_ids``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from courses.models import CourseRun
from courses.services.importing import ImportResult, fetch_course_run, save_course_run
from ecommerce.exceptions import ProductPriceInvalid
from ecommerce.models import Product
from ecommerce.selectors import course_run_type, run_products

ProductAction = Literal["created", "updated", "unchanged"]


def _new_product(run: CourseRun, price: Decimal) -> Product:
    return Product(
        content_type=course_run_type(),
        object_id=run.pk,
        price=price,
        description=f"{run.title} ({run.courseware_id})",
        is_active=True,
    )


def create_run_products(*, runs: Sequence[CourseRun], price: Decimal) -> int:
    """Give each run that has no active product one at ``price``; returns how many were made.

    Two queries whatever the number of runs (none for no runs).
    """
    if not runs:
        return 0
    with_product = set(run_products([run.pk for run in runs]).values_list("object_id", flat=True))
    new = [_new_product(run, price) for run in runs if run.pk not in with_product]
    Product.objects.bulk_create(new)
    return len(new)


def deactivate_run_products(*, run_ids: Iterable[int] | QuerySet) -> int:
    """Deactivate the runs' active products so that nobody can buy them (one statement)."""
    return run_products(run_ids).update(is_active=False)


@dataclass(frozen=True)
class ProductChange:
    product: Product
    action: ProductAction


def _check_price(price: Decimal) -> None:
    if price < 0:
        raise ProductPriceInvalid(f"The price must not be negative, not {price}")


def set_run_price(*, run: CourseRun, price: Decimal) -> ProductChange:
    """The run's active product at ``price``: created, re-priced, or left as it is.

    Raises ProductPriceInvalid for a negative price. Inside the caller's transaction if any.
    """
    _check_price(price)
    with transaction.atomic(savepoint=False):
        product = run_products([run.pk]).select_for_update().first()
        if product is None:
            product = _new_product(run, price)
            product.save()
            return ProductChange(product=product, action="created")
        if product.price == price:
            return ProductChange(product=product, action="unchanged")
        product.price = price
        product.save(update_fields=["price", "updated_on"])
        return ProductChange(product=product, action="updated")


def count_products_to_reprice(product_ids: list[int], price: Decimal) -> int:
    """How many of these products ``reprice_products`` would change."""
    return Product.objects.filter(pk__in=product_ids).exclude(price=price).count()


def reprice_products(product_ids: list[int], price: Decimal) -> int:
    """Set these products' price in one statement; returns how many changed."""
    return (
        Product.objects.filter(pk__in=product_ids)
        .exclude(price=price)
        .update(price=price, updated_on=timezone.now())
    )


@dataclass(frozen=True)
class PricedImport:
    imported: ImportResult
    product: ProductChange | None  # None when no price was given


def import_course_run_for_sale(
    *, courseware_id: str, live: bool = False, price: Decimal | None = None
) -> PricedImport:
    """Import the run from Open edX (see ``courses.services.importing``) and, with ``price``,
    give it an active product at that price, in the import's transaction: both or neither.

    Raises ProductPriceInvalid before anything is read or written, and the import's errors.
    """
    if price is not None:
        _check_price(price)
    fetched = fetch_course_run(courseware_id)  # network I/O, outside the transaction
    with transaction.atomic():
        imported = save_course_run(fetched=fetched, live=live)
        product = set_run_price(run=imported.run, price=price) if price is not None else None
    return PricedImport(imported=imported, product=product)
