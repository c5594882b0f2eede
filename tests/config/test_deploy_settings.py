"""Production security settings come from the environment; `check --deploy` is clean with them.

Each case runs a fresh interpreter with its own environment, as a deployment would.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "SECRET_KEY": "k3Vq9-7dPzL0sWm2YxR8tHcN5bJf4GaE6uTiOo1QwZyXvBnMlKjHgFdSaPq0Wc",
    "ALLOWED_HOSTS": "learn.example.edu",
    "SITE_BASE_URL": "https://learn.example.edu",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto,https",
    "CSRF_TRUSTED_ORIGINS": "https://learn.example.edu,https://www.learn.example.edu",
    "CACHE_URL": "redis://127.0.0.1:6379/2",
}

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS",
)}))
"""


def _run(argv: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    result = _run(["manage.py", "check", "--deploy"], PRODUCTION, tmp_path)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_check_deploy_warns_when_the_cache_is_not_shared(tmp_path):
    without_cache = {name: value for name, value in PRODUCTION.items() if name != "CACHE_URL"}
    result = _run(["manage.py", "check", "--deploy"], without_cache, tmp_path)
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("?: (")]
    assert warnings == [
        "?: (ecommerce.W001) The cache is local to each process (CACHE_URL is not set): with "
        "several web processes, each one counts enrollment-code attempts on its own."
    ]


def test_production_settings_are_read_from_the_environment(tmp_path):
    result = _run(["-c", PROBE], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://learn.example.edu", "https://www.learn.example.edu"],
    }


def test_defaults_work_over_plain_http_and_the_redirect_makes_cookies_secure(tmp_path):
    defaults = _run(["-c", PROBE], {"DEBUG": "true"}, tmp_path)
    assert defaults.returncode == 0, defaults.stderr
    assert json.loads(defaults.stdout) == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": None,
        "CSRF_TRUSTED_ORIGINS": [],
    }
    https = _run(["-c", PROBE], {"DEBUG": "true", "SECURE_SSL_REDIRECT": "true"}, tmp_path)
    values = json.loads(https.stdout)
    assert (values["SESSION_COOKIE_SECURE"], values["CSRF_COOKIE_SECURE"]) == (True, True)


def test_a_malformed_proxy_header_is_named(tmp_path):
    result = _run(["-c", PROBE], {"DEBUG": "true", "SECURE_PROXY_SSL_HEADER": "https"}, tmp_path)
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: SECURE_PROXY_SSL_HEADER must be "
        "'HEADER,VALUE' (e.g. X-Forwarded-Proto,https), not 'https'"
    )


CACHE_PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps(settings.CACHES["default"]))
"""


def test_the_cache_comes_from_cache_url(tmp_path):
    local = _run(["-c", CACHE_PROBE], {"DEBUG": "true"}, tmp_path)
    assert json.loads(local.stdout) == {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    shared = _run(["-c", CACHE_PROBE], {"DEBUG": "true", "CACHE_URL": "redis://r:6379/2"}, tmp_path)
    assert json.loads(shared.stdout) == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://r:6379/2",
    }
    wrong = _run(["-c", CACHE_PROBE], {"DEBUG": "true", "CACHE_URL": "memcached://m"}, tmp_path)
    assert wrong.returncode != 0
    assert wrong.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: CACHE_URL must be a redis:// or rediss:// "
        "URL, not 'memcached://m'"
    )
