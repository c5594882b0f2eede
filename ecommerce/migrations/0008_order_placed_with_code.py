"""Orders remember whether they were placed with a code (the code may be deleted since)."""

from django.db import migrations, models


def mark_orders_placed_with_a_code(apps, schema_editor):
    Order = apps.get_model("ecommerce", "Order")
    Order.objects.filter(discount__isnull=False).update(placed_with_code=True)


class Migration(migrations.Migration):
    dependencies = [
        ("ecommerce", "0007_contract_code_terms"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="placed_with_code",
            field=models.BooleanField(
                default=False,
                help_text="Whether the order was placed with a code, which stays true if the "
                "code is deleted since (an order without one is a contract member's purchase).",
            ),
        ),
        migrations.RunPython(mark_orders_placed_with_a_code, migrations.RunPython.noop),
    ]
