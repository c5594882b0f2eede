"""One way an amount reads (config.money), whichever database handed it back."""

from decimal import Decimal

import pytest
from django.template import engines

from config.money import amount_text, format_money


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        # PostgreSQL's numeric(…, 2) and what SQLite can return for the same amount.
        (Decimal("50.00"), "$50.00"),
        (Decimal("50"), "$50.00"),
        (Decimal("12.5"), "$12.50"),
        (Decimal("0"), "$0.00"),
        (Decimal("0E-10"), "$0.00"),
        (Decimal("99999999.99"), "$99999999.99"),
        (Decimal("0.005"), "$0.01"),
        (Decimal("-3.5"), "-$3.50"),
        (7, "$7.00"),
        ("7.1", "$7.10"),
    ],
)
def test_format_money(amount, text):
    assert format_money(amount) == text
    assert amount_text(amount) == text.replace("$", "")


def test_the_two_databases_forms_of_one_amount_read_the_same():
    assert format_money(Decimal("50")) == format_money(Decimal("50.00")) == "$50.00"


def test_money_filter_is_built_in():
    template = engines["django"].from_string("{{ a|money }} {{ b|money }} {{ c|money }}")
    assert template.render({"a": Decimal("50"), "b": Decimal("12.50"), "c": None}) == (
        "$50.00 $12.50 -"
    )
