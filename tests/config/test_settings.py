"""Settings are read from the environment; each case runs a fresh interpreter with its own env."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "debug": settings.DEBUG,
    "site": settings.SITE_BASE_URL,
    "secret": settings.SECRET_KEY,
}))
"""


def _run(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_embedded_defaults():
    result = _run({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "db.sqlite3")
    assert values["eager"] is True
    assert values["broker"] == "memory://localhost/"
    assert values["debug"] is True
    assert values["site"] == "http://127.0.0.1:8000"
    assert values["secret"].startswith("development-only")


def test_environment_overrides():
    result = _run(
        {
            "SECRET_KEY": "s3cret",
            "DATABASE_URL": "postgres://app@db.internal:5432/b2b",
            "CELERY_BROKER_URL": "redis://cache:6379/0",
            "SITE_BASE_URL": "https://learn.example.edu/",
        }
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "b2b"
    assert values["eager"] is False
    assert values["broker"] == "redis://cache:6379/0"
    assert values["debug"] is False
    assert values["site"] == "https://learn.example.edu"
    assert values["secret"] == "s3cret"


def test_secret_key_is_required_outside_debug():
    result = _run({})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_bad_boolean_is_named():
    result = _run({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr
