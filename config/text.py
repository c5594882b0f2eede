"""The one rule for text that reaches the database from outside: no NUL character.

PostgreSQL refuses a NUL (``\\x00``) in a text value; a value that held one would end in a
driver error (a traceback, a 500) instead of a reason the sender can act on. Every entry point
that takes text from a file, a form, a header, a query string or a command argument refuses it
with ``NUL_MESSAGE``, through this module:

- ``config.middleware.RefuseNulMiddleware``: every request, before anything reads it (its
  address and query, headers and cookies, form fields): a 400 naming where the NUL was;
- ``has_nul`` / ``refuse_nul``: for code that reads a file or another system's answer itself
  (a contract description, an API cursor, a sign-in service's claims);
- forms (admin, Wagtail, the manager pages) and the API's serializers need nothing more: Django's
  and DRF's ``CharField`` (``EmailField`` too) already refuse NUL, with the same wording;
- ``text_argument`` / ``optional_text_argument``: the argument types of the operator commands
  (``config.commands`` gives every untyped argument ``text_argument``).
"""

import argparse

NUL = "\x00"
NUL_MESSAGE = "must not contain NUL characters"


def has_nul(value: object) -> bool:
    return isinstance(value, str) and NUL in value


def refuse_nul(value: str, *, what: str) -> str:
    """``value`` itself; ValueError("<what> must not contain NUL characters") when it has one."""
    if has_nul(value):
        raise ValueError(f"{what} {NUL_MESSAGE}")
    return value


def optional_text_argument(value: str) -> str:
    """A command's text argument that may be empty (a description to clear): no NUL."""
    if has_nul(value):
        raise argparse.ArgumentTypeError(NUL_MESSAGE)
    return value


def text_argument(value: str) -> str:
    """A command's text argument: not empty (nor only spaces), no NUL."""
    if not value.strip():
        raise argparse.ArgumentTypeError(f"must not be empty: {value!r}")
    return optional_text_argument(value)
