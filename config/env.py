"""Typed readers for environment variables.

Every setting of the project is read in the ``config/settings`` package through these helpers, so
that a
bad value fails at start-up with a message naming the variable.
"""

import os
from typing import overload

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@overload
def get_str(name: str, default: str) -> str: ...
@overload
def get_str(name: str, default: None = None) -> str | None: ...


def get_str(name: str, default: str | None = None) -> str | None:
    """Return the variable's value, or ``default`` when it is unset or empty (so a setting with
    a text default is always text, and the type checker knows it)."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def get_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def get_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


def get_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def get_int_list(name: str, default: list[int]) -> list[int]:
    """Comma-separated whole numbers, e.g. ``75,90,100``."""
    items = get_list(name, [str(item) for item in default])
    try:
        return [int(item) for item in items]
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} must be whole numbers separated by commas, not {os.environ[name]!r}"
        ) from exc


def get_proxy_header(name: str) -> tuple[str, str] | None:
    """A ``HEADER,VALUE`` pair as Django's request.META key and value, or None when unset.

    ``X-Forwarded-Proto,https`` and ``HTTP_X_FORWARDED_PROTO,https`` both give
    ``("HTTP_X_FORWARDED_PROTO", "https")``.
    """
    value = os.environ.get(name)
    if value in (None, ""):
        return None
    header, _, expected = value.partition(",")
    header, expected = header.strip(), expected.strip()
    if not header or not expected:
        raise ImproperlyConfigured(
            f"{name} must be 'HEADER,VALUE' (e.g. X-Forwarded-Proto,https), not {value!r}"
        )
    key = header.upper().replace("-", "_")
    if not key.startswith("HTTP_"):
        key = f"HTTP_{key}"
    return key, expected
