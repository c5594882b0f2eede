"""A management command starts light: the payment SDKs are imported only when a payment is made.

mitol-django-payment-gateway's ``api`` module imports the CyberSource and Stripe SDKs (about
half a second and tens of megabytes). A command must not pay for them, neither through the URL
configuration (which Django's system checks import before every command) nor through the
services. Each case runs ``manage.py`` in a child process, as an operator would, and reads which
of those modules ended up in ``sys.modules``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _database_url_for_subprocess

ROOT = Path(__file__).resolve().parents[2]
SDK_MODULES = ("CyberSource", "stripe", "mitol.payment_gateway.api")

# manage.py's own entry point, then the watched modules that were imported, on the last line.
CHILD = """
import json, sys
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", *sys.argv[1:]])
print(json.dumps(sorted(name for name in {watched!r} if name in sys.modules)))
"""


def _imported_by(*argv: str, env: dict[str, str] | None = None) -> list[str]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **(env or {})}
    environment.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", CHILD.format(watched=SDK_MODULES), *argv],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_system_checks_with_the_whole_url_configuration_import_no_payment_sdk():
    # `check` runs every system check, the URL configuration's included (it imports every view).
    assert _imported_by("check") == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_operator_command_imports_no_payment_sdk():
    database = {"DATABASE_URL": _database_url_for_subprocess()}
    assert _imported_by("b2b_list", "organizations", env=database) == []
    assert _imported_by("b2b_list", "contracts", "--format", "json", env=database) == []
