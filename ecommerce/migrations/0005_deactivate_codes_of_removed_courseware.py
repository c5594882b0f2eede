"""Deactivate the unused codes that courseware removed before this release left usable.

`b2b_contract courseware --remove` deactivated the removed runs' products but not their codes, so
listings counted them usable and the codes CSV handed them out with a dead product URL. Removal
now deactivates them; this does the same for removals made before. A contract code linked only
to inactive products cannot be bought with; redeemed codes are left as they are.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef
from django.utils import timezone


def deactivate_codes_of_inactive_products(apps, schema_editor):
    Discount = apps.get_model("ecommerce", "Discount")
    DiscountProduct = apps.get_model("ecommerce", "DiscountProduct")
    DiscountRedemption = apps.get_model("ecommerce", "DiscountRedemption")
    links = DiscountProduct.objects.filter(discount_id=OuterRef("pk"))
    (
        Discount.objects.filter(b2b_contract__isnull=False, is_active=True)
        .filter(Exists(links), ~Exists(links.filter(product__is_active=True)))
        .filter(~Exists(DiscountRedemption.objects.filter(discount_id=OuterRef("pk"))))
        .update(is_active=False, updated_on=timezone.now())
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ecommerce", "0004_order_refund_due"),
    ]

    operations = [
        migrations.RunPython(deactivate_codes_of_inactive_products, migrations.RunPython.noop),
    ]
