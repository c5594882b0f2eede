"""What every ``manage.py`` command of the project shares: errors on one line.

An operator who gets a command wrong sees one line saying what is wrong, never a usage dump or
a traceback, and the exit status says which kind of error it was:

- 2: the arguments (``<command>: error: <what> (see --help)``), from ``OneLineCommandParser``
  and the argument types below, which reject a bad value with a one-line reason; an argument
  that takes text and has no type of its own refuses an empty value (``config.text``);
- 1: the data or the database (``CommandError: <what>``). ``OneLineErrorsMixin`` turns a lost
  database connection (``OperationalError``, ``InterfaceError``) into
  ``CommandError: database error: <first line of the driver's message>``; the transaction
  rolled back, so nothing was changed.

Every app's commands use this module (it lives in ``config`` so that no app imports another
one for it): ``class Command(OneLineErrorsMixin, BaseCommand)``, and ``add_subcommands`` for
commands with sub-commands.
"""

import argparse
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.core.checks import Tags
from django.core.checks.registry import registry
from django.core.management.base import CommandError, CommandParser
from django.db import InterfaceError, OperationalError

from config.acting import acting, command_actor
from config.text import text_argument

# Amounts are stored with 10 digits, 2 of them decimals.
MAX_AMOUNT = Decimal("100000000")


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def price(value: str) -> Decimal:
    """An amount of money: 0 or more, at most two decimal places (never rounded), below 10^8."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more: {value!r}")
    if amount != amount.quantize(Decimal("0.01")):
        raise argparse.ArgumentTypeError(f"at most two decimal places: {value!r}")
    if amount >= MAX_AMOUNT:
        raise argparse.ArgumentTypeError(f"too large: {value!r}")
    return amount.quantize(Decimal("0.01"))


def object_id(value: str) -> int:
    """A database id: a whole number of at least 1."""
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


DATABASE_GONE = (OperationalError, InterfaceError)


def database_error(exc: BaseException) -> CommandError:
    """The one-line command error for a database that went away: the first line of the first
    such error in the chain (a failed reconnection while rolling back follows the cause)."""
    first, seen = exc, set()
    context = exc.__context__
    while context is not None and id(context) not in seen:
        seen.add(id(context))
        if isinstance(context, DATABASE_GONE):
            first = context
        context = context.__context__
    lines = [line.strip() for line in str(first).splitlines() if line.strip()]
    return CommandError(f"database error: {lines[0] if lines else type(first).__name__}")


# The system checks of the web site: ``urls`` imports the URL configuration (every view, the REST
# API and its schema, Wagtail's admin URLs), ``admin`` every app's admin module. An operator
# command serves no page and uses neither; ``manage.py check``, ``runserver`` and ``migrate`` run
# them with all the others.
SITE_CHECK_TAGS = frozenset({Tags.urls, Tags.admin})

# What BaseCommand.requires_system_checks may be: tags, or every check.
SystemChecks = list[str] | tuple[str, ...] | Literal["__all__"]


class OneLineErrorsMixin:
    """Put it before ``BaseCommand``: every parser of the command reports bad arguments on one
    line, and a database connection lost while the command runs is one line too. The changes the
    command makes are attributed to it in the audit trail (``config.acting``). Before it runs,
    the command runs every system check but the web site's (``SITE_CHECK_TAGS``)."""

    @property
    def requires_system_checks(self) -> SystemChecks:
        # Read when the command runs, once every app has registered its checks: a new app's
        # checks are run by the operator commands too, unless they are the site's.
        return sorted(registry.tags_available() - SITE_CHECK_TAGS)

    @requires_system_checks.setter
    def requires_system_checks(self, value: SystemChecks) -> None:
        # BaseCommand declares a plain attribute, which a type checker takes as writable; the
        # checks of these commands are computed, never set.
        raise AttributeError("requires_system_checks is computed from the registered checks")

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)  # type: ignore[misc]
        parser.__class__ = OneLineCommandParser  # Django builds a plain CommandParser
        _type_text_arguments(parser)
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        name = type(self).__module__.rsplit(".", 1)[-1]
        try:
            with acting(command_actor(name)):
                return super().execute(*args, **options)  # type: ignore[misc]
        except DATABASE_GONE as exc:
            raise database_error(exc) from exc


# Django's own options of every command, left as Django reads them.
_DJANGO_OPTIONS = frozenset({"settings", "pythonpath"})


def _type_text_arguments(parser: argparse.ArgumentParser) -> None:
    """Give every argument of the command (and of its sub-commands) that takes a text value and
    has no type of its own ``text_argument``: an empty value (or a NUL) is a one-line error.
    An argument that may be empty says so with ``type=optional_text_argument``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _type_text_arguments(subparser)
        elif (
            action.nargs != 0
            and action.type is None
            and action.choices is None
            and action.dest not in _DJANGO_OPTIONS
        ):
            action.type = text_argument


def add_subcommands(parser: CommandParser, *, dest: str, metavar: str):
    """The sub-commands of a command (one is required), stored in ``dest``; each reports bad
    arguments on one line."""
    return parser.add_subparsers(
        dest=dest, required=True, metavar=metavar, parser_class=OneLineCommandParser
    )
