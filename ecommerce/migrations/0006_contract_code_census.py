"""The census of each B2B contract's codes, kept by triggers on PostgreSQL (see
``ecommerce.models.ContractCodeCensus``), filled from the codes that exist.

Every trigger is a statement trigger reading the statement's transition tables: one INSERT into
the census per statement, whatever the number of codes it wrote.
"""

from django.db import migrations, models
from django.db.models.functions import Coalesce, Now

CENSUS = "ecommerce_contractcodecensus"
CODES = "ecommerce_discount"
LINKS = "ecommerce_discountproduct"
REDEMPTIONS = "ecommerce_discountredemption"
COLUMNS = (
    "contract_id, product_id, is_active, redeemed, amount, redemption_type, activation_date, "
    "expiration_date, n"
)
GROUP = "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"


def _state(codes: str, links: str, sign: str) -> str:
    """The census rows of the codes in ``codes`` linked through ``links``, counted ``sign``."""
    return f"""
        SELECT d.b2b_contract_id, l.product_id, d.is_active,
               EXISTS (SELECT 1 FROM {REDEMPTIONS} r WHERE r.discount_id = d.id),
               d.amount, d.redemption_type, d.activation_date, d.expiration_date,
               {sign}count(*)
        FROM {codes} d JOIN {links} l ON l.discount_id = d.id
        WHERE d.b2b_contract_id IS NOT NULL
        {GROUP}"""


def _flip(redemptions: str, condition: str, *, to_redeemed: bool) -> str:
    """Codes whose redeemed state this statement on the redemptions flipped: -1 in the old
    state, +1 in the new one. ``condition`` picks the codes that flipped."""
    unredeemed, redeemed = (-1, 1) if to_redeemed else (1, -1)
    return f"""
        INSERT INTO {CENSUS} ({COLUMNS})
        SELECT d.b2b_contract_id, l.product_id, d.is_active, s.redeemed, d.amount,
               d.redemption_type, d.activation_date, d.expiration_date, sum(s.n)
        FROM (SELECT DISTINCT discount_id FROM {redemptions}) f
        JOIN {CODES} d ON d.id = f.discount_id
        JOIN {LINKS} l ON l.discount_id = d.id
        CROSS JOIN (VALUES (FALSE, {unredeemed}), (TRUE, {redeemed})) AS s(redeemed, n)
        WHERE d.b2b_contract_id IS NOT NULL AND {condition}
        {GROUP}"""


# name: (table, event, transition tables, the statement)
TRIGGERS = {
    "census_links_in": (
        LINKS,
        "INSERT",
        "NEW TABLE AS new_links",
        f"INSERT INTO {CENSUS} ({COLUMNS}) {_state(CODES, 'new_links', '')}",
    ),
    "census_links_out": (
        LINKS,
        "DELETE",
        "OLD TABLE AS old_links",
        f"INSERT INTO {CENSUS} ({COLUMNS}) {_state(CODES, 'old_links', '-')}",
    ),
    "census_links_moved": (
        LINKS,
        "UPDATE",
        "OLD TABLE AS old_links NEW TABLE AS new_links",
        f"INSERT INTO {CENSUS} ({COLUMNS}) SELECT {COLUMNS.replace(', n', ', sum(n)')} FROM ("
        f"{_state(CODES, 'old_links', '-')} UNION ALL {_state(CODES, 'new_links', '')}"
        f") AS c({COLUMNS}) {GROUP} HAVING sum(n) <> 0",
    ),
    "census_codes_changed": (
        CODES,
        "UPDATE",
        "OLD TABLE AS old_codes NEW TABLE AS new_codes",
        f"INSERT INTO {CENSUS} ({COLUMNS}) SELECT {COLUMNS.replace(', n', ', sum(n)')} FROM ("
        f"{_state('old_codes', LINKS, '-')} UNION ALL {_state('new_codes', LINKS, '')}"
        f") AS c({COLUMNS}) {GROUP} HAVING sum(n) <> 0",
    ),
    # A code's first redemption moves it to redeemed; removing its last moves it back.
    "census_first_redemption": (
        REDEMPTIONS,
        "INSERT",
        "NEW TABLE AS new_redemptions",
        _flip(
            "new_redemptions",
            f"(SELECT count(*) FROM {REDEMPTIONS} a WHERE a.discount_id = d.id) = "
            "(SELECT count(*) FROM new_redemptions b WHERE b.discount_id = d.id)",
            to_redeemed=True,
        ),
    ),
    "census_last_redemption": (
        REDEMPTIONS,
        "DELETE",
        "OLD TABLE AS old_redemptions",
        _flip(
            "old_redemptions",
            f"NOT EXISTS (SELECT 1 FROM {REDEMPTIONS} a WHERE a.discount_id = d.id)",
            to_redeemed=False,
        ),
    ),
}


def _create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, event, transitions, statement) in TRIGGERS.items():
        schema_editor.execute(
            f"CREATE FUNCTION ecommerce_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {statement}; RETURN NULL; END $$"
        )
        schema_editor.execute(
            f"CREATE TRIGGER ecommerce_{name} AFTER {event} ON {table} "
            f"REFERENCING {transitions} FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_{name}()"
        )
    schema_editor.execute(f"INSERT INTO {CENSUS} ({COLUMNS}) {_state(CODES, LINKS, '')}")


def _request_dated_contracts(apps, schema_editor):
    """Codes now carry their contract's dates: have every contract with dates reconciled (the
    pending sweep queues them), which moves its codes' dates."""
    ContractPage = apps.get_model("b2b", "ContractPage")
    ContractCodeStatus = apps.get_model("b2b", "ContractCodeStatus")
    dated = ContractPage.objects.filter(
        models.Q(contract_start__isnull=False) | models.Q(contract_end__isnull=False)
    )
    ContractCodeStatus.objects.filter(pk__in=dated.values("pk")).update(
        requested_version=models.F("requested_version") + 1,
        pending_since=Coalesce("pending_since", Now()),
    )


def _drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, *_) in TRIGGERS.items():
        schema_editor.execute(f"DROP TRIGGER ecommerce_{name} ON {table}")
        schema_editor.execute(f"DROP FUNCTION ecommerce_{name}()")


class Migration(migrations.Migration):
    dependencies = [
        ("ecommerce", "0005_deactivate_codes_of_removed_courseware"),
        ("b2b", "0005_organization_name_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContractCodeCensus",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("contract_id", models.BigIntegerField()),
                ("product_id", models.BigIntegerField()),
                ("is_active", models.BooleanField()),
                ("redeemed", models.BooleanField()),
                ("amount", models.DecimalField(decimal_places=2, max_digits=10)),
                ("redemption_type", models.CharField(max_length=30)),
                ("activation_date", models.DateTimeField(null=True)),
                ("expiration_date", models.DateTimeField(null=True)),
                ("n", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["contract_id"], name="ecommerce_census_contract")],
            },
        ),
        migrations.RunPython(_create_triggers, _drop_triggers),
        migrations.RunPython(_request_dated_contracts, migrations.RunPython.noop),
    ]
