"""How an amount of money reads, in one place: ``$50.00``.

PostgreSQL hands a ``numeric(…, 2)`` back with its two places (``Decimal("50.00")``); SQLite
keeps numbers as it got them, so a value it computes (a subquery, a sum) can come back as
``Decimal("50")`` or ``Decimal("12.5")``. Everything that shows an amount to a person (health
findings, command output, refund reasons, pages and e-mails through the ``money`` template
filter, ``config/templatetags/money.py``) formats it here, so the text is the same on both
databases. Machine formats (JSON, CSV, the API) write the amount with ``amount_text``.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def amount_text(amount: Decimal | int | str) -> str:
    """The amount with exactly two decimal places, no currency sign: ``50.00``, ``-3.50``."""
    return str(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP))


def format_money(amount: Decimal | int | str) -> str:
    """The amount as people read it: ``$50.00``; a negative one ``-$3.50``."""
    text = amount_text(amount)
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"
