from django.db import migrations, models

from b2b.naming import name_key


def fill_name_keys(apps, schema_editor):
    """Give every organization its name key. When two already have names that differ only in
    case or spacing, the older one (lowest id) gets the key and the other keeps none until it
    is renamed: the migration never fails on existing data."""
    OrganizationPage = apps.get_model("b2b", "OrganizationPage")
    taken = set()
    for org in OrganizationPage.objects.order_by("pk").only("pk", "title"):
        key = name_key(org.title)
        if key in taken:
            continue
        taken.add(key)
        OrganizationPage.objects.filter(pk=org.pk).update(name_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("b2b", "0004_membership_refusal"),
    ]

    operations = [
        migrations.AddField(
            model_name="organizationpage",
            name="name_key",
            field=models.CharField(editable=False, max_length=255, null=True, unique=True),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
    ]
