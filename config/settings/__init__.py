"""Django settings. This package is the one place that reads the environment; each variable is
documented where it is read, and docs/settings.md is the operator-facing reference.

Its parts, read in this order (a later part may use an earlier one's values):
``core`` (Django itself), ``integrations`` (the queue, Open edX, payments, SSO and the
background work) and ``product`` (the product's own limits, the API, logging)."""

from config.settings.core import *  # noqa: F403
from config.settings.integrations import *  # noqa: F403
from config.settings.product import *  # noqa: F403
