"""A management command starts light (docs/architecture.md, "Start-up").

Each case runs ``manage.py`` in a child process, as an operator would, and reads which of the
watched modules ended up in ``sys.modules``:

- the payment SDKs (mitol-django-payment-gateway's ``api`` module imports CyberSource and Stripe,
  about half a second and tens of megabytes) are imported on the first payment only, neither
  through the URL configuration nor through the services;
- an operator command (``b2b_list``...) does not load the Celery app, the URL configuration (every
  view, the REST API, Wagtail's admin URLs) or the admin modules: Celery is imported by the
  worker, beat and the first task sent; the URL configuration and the admin modules by the site
  and by the ``urls`` and ``admin`` system checks, which ``manage.py check``, ``runserver`` and
  ``migrate`` still run, and which still report a broken admin module or URL pattern.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.databases import database_url_for_subprocess

ROOT = Path(__file__).resolve().parents[2]
SDK_MODULES = ("CyberSource", "stripe", "mitol.payment_gateway.api")

# What an operator command does not import at start-up, by what keeps each group out.
NOT_AT_START_UP = {
    "Celery (config.celery is imported by the worker, beat and config.queueing)": (
        "config.celery",
        "celery.app.base",
        "kombu",
    ),
    "the URL configuration (urls checks are not an operator command's)": (
        "config.urls",
        "config.api.schema",
        "b2b.api.urls",
        "ecommerce.views",
        "wagtail.admin.urls",
        "drf_spectacular.views",
    ),
    "the admin modules (SimpleAdminConfig: the URL configuration discovers them)": (
        "users.admin",
        "b2b.admin",
        "ecommerce.admin",
        "courses.admin",
    ),
}

# manage.py's own entry point, then the watched modules that were imported, on the last line.
CHILD = """
import json, sys
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", *sys.argv[1:]])
print(json.dumps(sorted(name for name in {watched!r} if name in sys.modules)))
"""


def _run(
    *argv: str, watched: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **(env or {})}
    environment.pop("CELERY_BROKER_URL", None)
    return subprocess.run(
        [sys.executable, "-c", CHILD.format(watched=watched), *argv],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _imported_by(
    *argv: str, watched: tuple[str, ...] = SDK_MODULES, env: dict[str, str] | None = None
) -> list[str]:
    result = _run(*argv, watched=watched, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_system_checks_with_the_whole_url_configuration_import_no_payment_sdk():
    # `check` runs every system check, the URL configuration's included (it imports every view).
    assert _imported_by("check") == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_operator_command_imports_no_payment_sdk():
    database = {"DATABASE_URL": database_url_for_subprocess()}
    assert _imported_by("b2b_list", "organizations", env=database) == []
    assert _imported_by("b2b_list", "contracts", "--format", "json", env=database) == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_operator_command_loads_neither_celery_nor_the_site_nor_the_admin():
    everything = tuple(name for names in NOT_AT_START_UP.values() for name in names)
    database = {"DATABASE_URL": database_url_for_subprocess()}
    imported = set(_imported_by("b2b_list", "organizations", watched=everything, env=database))
    loaded = {group: sorted(imported & set(names)) for group, names in NOT_AT_START_UP.items()}
    assert loaded == {group: [] for group in NOT_AT_START_UP}


def test_operator_commands_run_every_check_but_the_sites():
    from django.core.checks import Tags
    from django.core.checks.registry import registry

    from config.commands import OneLineErrorsMixin

    tags = set(OneLineErrorsMixin().requires_system_checks)
    assert tags == registry.tags_available() - {Tags.urls, Tags.admin}
    assert {Tags.models, Tags.database, Tags.compatibility} <= tags


def test_manage_py_check_still_loads_the_url_configuration_and_the_admin_modules():
    watched = ("config.urls", "b2b.api.urls", "users.admin", "b2b.admin", "ecommerce.admin")
    assert _imported_by("check", watched=watched) == sorted(watched)


BROKEN_SITE = {"DJANGO_SETTINGS_MODULE": "tests.config.broken_site.settings"}


def test_manage_py_check_reports_a_broken_admin_module_and_a_broken_url_pattern():
    # tests/config/broken_site: an admin listing a column its model lacks, and a URL entry that
    # is not a pattern. Both are reported whatever order the checks run in.
    result = _run("check", env=BROKEN_SITE)
    assert result.returncode == 1
    assert "admin.E108" in result.stderr
    assert "urls.E004" in result.stderr


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_broken_site_stops_migrate_but_not_an_operators_listing():
    # The same broken site: an operator's listing works (it serves no page), ...
    database = {"DATABASE_URL": database_url_for_subprocess(), **BROKEN_SITE}
    listing = _run("b2b_list", "organizations", env=database)
    assert listing.returncode == 0, listing.stderr
    assert "No organizations found." in listing.stdout
    # ... while `migrate` (the deployment step) still refuses to run on it.
    migrate = _run("migrate", "--check", env=database)
    assert migrate.returncode == 1
    assert "admin.E108" in migrate.stderr
    assert "urls.E004" in migrate.stderr
