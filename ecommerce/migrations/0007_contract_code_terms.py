"""A contract's codes read their price and dates from one row per contract.

``ContractCodeTerms`` holds, per B2B contract, the price and dates its enrollment codes are used
at; a price or date change then writes that row instead of every code. Existing data moves
over: each contract with codes gets the terms most of its codes carry (a contract whose codes
disagreed, which only an unfinished reconciliation leaves, is asked to reconcile again), and the
codes' own amount and dates are emptied, which a check constraint then keeps so. The census
counts codes by product, activity, redemption and type only: its price and date columns go, and
its triggers are made again without them (the census is refilled from the codes).
"""

from collections import Counter
from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, Q
from django.db.models.functions import Coalesce, Now

CENSUS = "ecommerce_contractcodecensus"
CODES = "ecommerce_discount"
LINKS = "ecommerce_discountproduct"
REDEMPTIONS = "ecommerce_discountredemption"
TRIGGERS = (
    ("census_links_in", LINKS),
    ("census_links_out", LINKS),
    ("census_links_moved", LINKS),
    ("census_codes_changed", CODES),
    ("census_first_redemption", REDEMPTIONS),
    ("census_last_redemption", REDEMPTIONS),
)
OLD_COLUMNS = (
    "contract_id, product_id, is_active, redeemed, amount, redemption_type, activation_date, "
    "expiration_date, n"
)
COLUMNS = "contract_id, product_id, is_active, redeemed, redemption_type, n"


def _statements(columns: str) -> dict[str, tuple[str, str]]:
    """Each trigger's (event and transition tables, statement) for a census of ``columns``."""
    state = columns.replace("contract_id", "d.b2b_contract_id").replace(", n", "")
    state = state.replace("product_id", "l.product_id")
    for name in ("is_active", "amount", "redemption_type", "activation_date", "expiration_date"):
        state = state.replace(name, f"d.{name}")
    group = "GROUP BY " + ", ".join(str(i + 1) for i in range(columns.count(",")))
    summed = columns.replace(", n", ", sum(n)")

    def of(codes: str, links: str, sign: str) -> str:
        redeemed = f"EXISTS (SELECT 1 FROM {REDEMPTIONS} r WHERE r.discount_id = d.id)"
        return (
            f"SELECT {state.replace('redeemed', redeemed)}, {sign}count(*) "
            f"FROM {codes} d JOIN {links} l ON l.discount_id = d.id "
            f"WHERE d.b2b_contract_id IS NOT NULL {group}"
        )

    def moved(old: str, new: str) -> str:
        return (
            f"INSERT INTO {CENSUS} ({columns}) SELECT {summed} FROM ({old} UNION ALL {new}) "
            f"AS c({columns}) {group} HAVING sum(n) <> 0"
        )

    def flip(redemptions: str, condition: str, *, to_redeemed: bool) -> str:
        unredeemed, redeemed = (-1, 1) if to_redeemed else (1, -1)
        return (
            f"INSERT INTO {CENSUS} ({columns}) SELECT {state.replace('redeemed', 's.redeemed')}, "
            f"sum(s.n) FROM (SELECT DISTINCT discount_id FROM {redemptions}) f "
            f"JOIN {CODES} d ON d.id = f.discount_id JOIN {LINKS} l ON l.discount_id = d.id "
            f"CROSS JOIN (VALUES (FALSE, {unredeemed}), (TRUE, {redeemed})) AS s(redeemed, n) "
            f"WHERE d.b2b_contract_id IS NOT NULL AND {condition} {group}"
        )

    return {
        "fill": ("", f"INSERT INTO {CENSUS} ({columns}) {of(CODES, LINKS, '')}"),
        "census_links_in": (
            "INSERT REFERENCING NEW TABLE AS new_links",
            f"INSERT INTO {CENSUS} ({columns}) {of(CODES, 'new_links', '')}",
        ),
        "census_links_out": (
            "DELETE REFERENCING OLD TABLE AS old_links",
            f"INSERT INTO {CENSUS} ({columns}) {of(CODES, 'old_links', '-')}",
        ),
        "census_links_moved": (
            "UPDATE REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links",
            moved(of(CODES, "old_links", "-"), of(CODES, "new_links", "")),
        ),
        "census_codes_changed": (
            "UPDATE REFERENCING OLD TABLE AS old_codes NEW TABLE AS new_codes",
            moved(of("old_codes", LINKS, "-"), of("new_codes", LINKS, "")),
        ),
        "census_first_redemption": (
            "INSERT REFERENCING NEW TABLE AS new_redemptions",
            flip(
                "new_redemptions",
                f"(SELECT count(*) FROM {REDEMPTIONS} a WHERE a.discount_id = d.id) = "
                "(SELECT count(*) FROM new_redemptions b WHERE b.discount_id = d.id)",
                to_redeemed=True,
            ),
        ),
        "census_last_redemption": (
            "DELETE REFERENCING OLD TABLE AS old_redemptions",
            flip(
                "old_redemptions",
                f"NOT EXISTS (SELECT 1 FROM {REDEMPTIONS} a WHERE a.discount_id = d.id)",
                to_redeemed=False,
            ),
        ),
    }


def _drop_triggers(schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER ecommerce_{name} ON {table}")
        schema_editor.execute(f"DROP FUNCTION ecommerce_{name}()")


def _create_triggers(schema_editor, columns: str) -> None:
    """Make the triggers for a census of ``columns`` and fill it from the codes."""
    if schema_editor.connection.vendor != "postgresql":
        return
    statements = _statements(columns)
    for name, table in TRIGGERS:
        when, statement = statements[name]
        event, transitions = when.split(" ", 1)
        schema_editor.execute(
            f"CREATE FUNCTION ecommerce_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {statement}; RETURN NULL; END $$"
        )
        schema_editor.execute(
            f"CREATE TRIGGER ecommerce_{name} AFTER {event} ON {table} {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_{name}()"
        )
    schema_editor.execute(f"DELETE FROM {CENSUS}")
    schema_editor.execute(statements["fill"][1])


def drop_triggers(apps, schema_editor):
    _drop_triggers(schema_editor)


def create_triggers(apps, schema_editor):
    _create_triggers(schema_editor, COLUMNS)


def drop_triggers_and_census(apps, schema_editor):
    """Back: the old census columns come back empty, so the rows go first (refilled later)."""
    _drop_triggers(schema_editor)
    apps.get_model("ecommerce", "ContractCodeCensus").objects.all().delete()


def create_old_triggers(apps, schema_editor):
    _create_triggers(schema_editor, OLD_COLUMNS)


def move_terms_to_rows(apps, schema_editor):
    """Give each contract with codes the terms most of its codes carry, and empty the codes'
    own; a contract whose codes disagreed is asked to reconcile again."""
    Discount = apps.get_model("ecommerce", "Discount")
    ContractCodeTerms = apps.get_model("ecommerce", "ContractCodeTerms")
    ContractCodeStatus = apps.get_model("b2b", "ContractCodeStatus")
    contract_codes = Discount.objects.filter(b2b_contract__isnull=False)
    stamps = (
        contract_codes.values("b2b_contract_id", "amount", "activation_date", "expiration_date")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_contract: dict[int, Counter] = {}
    for row in stamps:
        stamp = (row["amount"], row["activation_date"], row["expiration_date"])
        by_contract.setdefault(row["b2b_contract_id"], Counter())[stamp] += row["n"]
    ContractCodeTerms.objects.bulk_create(
        [
            ContractCodeTerms(
                contract_id=contract_id,
                amount=amount if amount is not None else Decimal("0.00"),
                activation_date=activation,
                expiration_date=expiration,
            )
            for contract_id, counts in sorted(by_contract.items())
            for (amount, activation, expiration), _ in counts.most_common(1)
        ]
    )
    mixed = [contract_id for contract_id, counts in by_contract.items() if len(counts) > 1]
    ContractCodeStatus.objects.filter(pk__in=mixed).update(
        requested_version=models.F("requested_version") + 1,
        pending_since=Coalesce("pending_since", Now()),
    )
    contract_codes.update(amount=None, activation_date=None, expiration_date=None)


def move_terms_to_codes(apps, schema_editor):
    """Back: every code of a contract carries its contract's terms again."""
    Discount = apps.get_model("ecommerce", "Discount")
    ContractCodeTerms = apps.get_model("ecommerce", "ContractCodeTerms")
    for terms in ContractCodeTerms.objects.all():
        Discount.objects.filter(b2b_contract_id=terms.contract_id).update(
            amount=terms.amount,
            activation_date=terms.activation_date,
            expiration_date=terms.expiration_date,
        )
    Discount.objects.filter(amount__isnull=True).update(amount=Decimal("0.00"))


class Migration(migrations.Migration):
    dependencies = [
        ("ecommerce", "0006_contract_code_census"),
        ("b2b", "0005_organization_name_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContractCodeTerms",
            fields=[
                (
                    "contract",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="code_terms",
                        serialize=False,
                        to="b2b.contractpage",
                    ),
                ),
                ("amount", models.DecimalField(decimal_places=2, max_digits=10)),
                ("activation_date", models.DateTimeField(blank=True, null=True)),
                ("expiration_date", models.DateTimeField(blank=True, null=True)),
                ("updated_on", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name_plural": "contract code terms",
                "constraints": [
                    models.CheckConstraint(
                        condition=Q(amount__gte=Decimal("0")),
                        name="ecommerce_codeterms_amount_not_negative",
                    ),
                    models.CheckConstraint(
                        condition=Q(activation_date__isnull=True)
                        | Q(expiration_date__isnull=True)
                        | Q(activation_date__lte=models.F("expiration_date")),
                        name="ecommerce_codeterms_activation_before_expiration",
                    ),
                ],
            },
        ),
        migrations.RunPython(drop_triggers, create_old_triggers),
        migrations.AlterField(
            model_name="discount",
            name="amount",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Empty for a contract's enrollment codes: they sell at the contract's "
                "price.",
                max_digits=10,
                null=True,
            ),
        ),
        migrations.RunPython(move_terms_to_rows, move_terms_to_codes),
        migrations.RemoveField(model_name="contractcodecensus", name="amount"),
        migrations.RemoveField(model_name="contractcodecensus", name="activation_date"),
        migrations.RemoveField(model_name="contractcodecensus", name="expiration_date"),
        migrations.RunPython(create_triggers, drop_triggers_and_census),
        migrations.AddConstraint(
            model_name="discount",
            constraint=models.CheckConstraint(
                condition=Q(b2b_contract__isnull=True, amount__isnull=False)
                | Q(
                    b2b_contract__isnull=False,
                    amount__isnull=True,
                    activation_date__isnull=True,
                    expiration_date__isnull=True,
                ),
                name="ecommerce_discount_terms_of_contract_codes",
                violation_error_message="A contract's code takes its price and dates from the "
                "contract: leave its amount and dates empty. Any other code needs an amount.",
            ),
        ),
    ]
