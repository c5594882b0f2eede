"""The ``money`` template filter (a built-in of the template engine, config/settings/core.py):
``{{ order.total_price_paid|money }}`` reads ``$50.00`` (``config.money.format_money``);
nothing (``None`` or an empty string) reads ``-``."""

from django import template

from config.money import format_money

register = template.Library()


@register.filter
def money(amount):
    if amount is None or amount == "":
        return "-"
    return format_money(amount)
