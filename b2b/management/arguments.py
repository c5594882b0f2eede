"""Argument types for the B2B commands: each rejects bad input with a one-line message."""

import argparse
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.management.base import CommandError, CommandParser


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def price(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more: {value!r}")
    if amount != amount.quantize(Decimal("0.01")):
        raise argparse.ArgumentTypeError(f"at most two decimal places: {value!r}")
    if amount >= Decimal("100000000"):
        raise argparse.ArgumentTypeError(f"too large: {value!r}")
    return amount.quantize(Decimal("0.01"))


def learner_cap(value: str) -> int:
    try:
        cap = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if cap < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value!r} (use --no-learner-cap)")
    return cap


def object_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an id: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"not an id: {value!r}")
    return number


class OneLineCommandParser(CommandParser):
    """Reports bad arguments on one line ("<command>: error: <what> (see --help)") instead of
    printing the whole usage first; called from code, it raises CommandError as Django's does."""

    def error(self, message):
        if self.called_from_command_line:
            self.exit(2, f"{self.prog}: error: {message} (see --help)\n")
        raise CommandError(f"Error: {message}")


class OneLineErrorsMixin:
    """For commands with sub-commands: every parser reports bad arguments on one line. Add the
    sub-commands with ``add_subcommands``."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = OneLineCommandParser  # Django builds a plain CommandParser
        return parser


def add_subcommands(parser: CommandParser, *, dest: str, metavar: str):
    """The sub-commands of a B2B command (one is required), stored in ``dest``; each reports bad
    arguments on one line."""
    return parser.add_subparsers(
        dest=dest, required=True, metavar=metavar, parser_class=OneLineCommandParser
    )
