"""The argument types of the B2B commands, each rejecting a bad value with a one-line reason.

The types every app's commands share (dates, amounts, ids) and the one-line parser live in
``config.commands`` and are re-exported here, so that a B2B command finds its whole argument
vocabulary in one module; the learner cap is the B2B commands' own. Every text argument
without a type refuses an empty value (``config.commands``); one that may be empty has
``type=optional_text_argument``.
"""

import argparse

from b2b.validators import MAX_LEARNER_CAP
from config.commands import (
    OneLineCommandParser,
    OneLineErrorsMixin,
    add_subcommands,
    iso_date,
    object_id,
    price,
)
from config.text import optional_text_argument

__all__ = [
    "OneLineCommandParser",
    "OneLineErrorsMixin",
    "add_subcommands",
    "iso_date",
    "learner_cap",
    "object_id",
    "optional_text_argument",
    "price",
]


def learner_cap(value: str) -> int:
    try:
        cap = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if cap < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value!r} (use --no-learner-cap)")
    if cap > MAX_LEARNER_CAP:
        raise argparse.ArgumentTypeError(f"at most {MAX_LEARNER_CAP}: {value!r}")
    return cap
