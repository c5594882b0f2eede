"""Shared fixtures, and the rule that service-backed tests fail rather than skip in CI.

Tests marked ``postgres`` need PostgreSQL (real parallel connections); tests marked ``redis`` need
a Redis server; tests marked ``browser`` need Debian's Chromium; tests marked ``programs(...)``
need those programs installed. On a developer machine without them they are skipped with the
reason; with REQUIRE_SERVICES=1 (``make test`` and CI) a missing service is a failure.

Those are the only skips there may be: a test skipped any other way (a bare ``pytest.skip``, a
skipped module, or a marker's skip with another reason) makes the run fail, so ``make
test-sqlite`` (and CI's run on SQLite) stays green only by skipping what a marker says it needs.
"""

import glob
import os
import shutil
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest
from django.db import connection

from tests.support.databases import database_url_for_subprocess

if TYPE_CHECKING:
    from b2b.models import OrganizationIndexPage
    from cms.models import HomePage

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes"}
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Playwright's sync API runs an event loop in the test thread; the live server's database access
# from that thread is safe (one thread, no concurrent coroutines), so let Django allow it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _redis_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _installed(program: str) -> bool:
    """On PATH, or among PostgreSQL's server programs (Debian keeps those off PATH)."""
    return bool(shutil.which(program) or glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))


def _missing_service(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: this must not be skipped)", pytrace=False)
    pytest.skip(reason)


SERVICE_MARKERS = ("postgres", "redis", "browser", "programs")
SERVICE_SKIP = "needs "  # how every reason of _missing_service starts
_unexplained_skips: list[str] = []


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report).removeprefix("Skipped: ")
    marked = any(item.get_closest_marker(name) for name in SERVICE_MARKERS)
    if not (marked and reason.startswith(SERVICE_SKIP)):
        _unexplained_skips.append(f"{item.nodeid}: {reason}")


def pytest_collectreport(report):
    if report.skipped:
        _unexplained_skips.append(f"{report.nodeid}: {_skip_reason(report)}")


def pytest_sessionfinish(session, exitstatus):
    if _unexplained_skips and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _unexplained_skips:
        terminalreporter.section("skips without a service marker's reason", red=True)
        for line in _unexplained_skips:
            terminalreporter.line(line)
        terminalreporter.line(
            "Mark a test postgres, redis, browser or programs(...) for what it needs; skip "
            "nothing else (tests/conftest.py)."
        )


def pytest_sessionstart(session):
    if REQUIRE_SERVICES and connection.vendor != "postgresql":
        pytest.exit(
            "REQUIRE_SERVICES=1 but DATABASE_URL does not point at PostgreSQL", returncode=3
        )


@pytest.fixture(autouse=True)
def _service_requirements(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _missing_service("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if request.node.get_closest_marker("redis") and not _redis_reachable(TEST_REDIS_URL):
        _missing_service(f"needs Redis at {TEST_REDIS_URL}")
    if request.node.get_closest_marker("browser") and not os.access(CHROMIUM, os.X_OK):
        _missing_service(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    programs = request.node.get_closest_marker("programs")
    missing = [name for name in (programs.args if programs else ()) if not _installed(name)]
    if missing:
        _missing_service(f"needs {', '.join(missing)} installed")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's Chromium (never a downloaded browser), headless, with no background
    network traffic."""
    # The browser is launched (session scope) before the autouse check above runs: check here
    # too, so a missing Chromium skips, or fails under REQUIRE_SERVICES=1, with this message.
    if not os.access(CHROMIUM, os.X_OK):
        _missing_service(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Each test starts with Celery's process-wide "inside a task" flag clear. Eager tasks run
    in two threads at once can leave it set (each run puts back what it found), and a later
    ``result.get()`` would then refuse to wait (tests/config/test_celery_join_flag.py)."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache, so throttle counts never leak from one test into
    another (django-axes keeps its counts in the database, which every test restores)."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()
    yield
    for cache in caches.all(initialized_only=True):
        cache.clear()


@pytest.fixture
def no_openedx(settings):
    """Open edX settings left unset, whatever the environment says: copies and enrollment
    pushes stay "not configured" and nothing leaves the machine."""
    for name in (
        "OPENEDX_API_BASE_URL",
        "OPENEDX_STUDIO_API_BASE_URL",
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID",
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET",
    ):
        setattr(settings, name, None)
    return settings


@pytest.fixture
def redis_url() -> str:
    return TEST_REDIS_URL


@dataclass(frozen=True)
class SiteTree:
    home: "HomePage"
    organizations: "OrganizationIndexPage"


@pytest.fixture
def site_tree(db) -> SiteTree:
    """The page tree ``configure_wagtail`` sets up: the home page and the Organizations index."""
    from b2b.services.organizations.index import ensure_organizations_index

    organizations = ensure_organizations_index().index
    return SiteTree(home=organizations.get_parent().specific, organizations=organizations)


@pytest.fixture
def openedx_server(settings):
    """A fake Open edX (LMS and Studio, real HTTP servers on 127.0.0.1) the settings point at.

    See tests/support/openedx_server.py. The Studio URL is given without its trailing slash, as
    an operator might write it.
    """
    from courses.openedx import clear_token_cache
    from tests.support.openedx_server import FakeOpenEdx

    server = FakeOpenEdx().start()
    settings.OPENEDX_API_BASE_URL = server.lms_url
    settings.OPENEDX_STUDIO_API_BASE_URL = server.studio_url.rstrip("/")
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID = server.client_id
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET = server.client_secret
    settings.OPENEDX_REQUEST_TIMEOUT = 5
    clear_token_cache()
    try:
        yield server
    finally:
        server.stop()
        clear_token_cache()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that Django's SMTP backend sends to.

    Read what arrived with ``smtp_server.wait_for(n)`` (parsed e-mails; see
    tests/support/smtp_server.py); ``smtp_server.refuse_next(n, reply)`` makes it refuse the next
    messages. A worker process started by ``celery_worker_process`` can be pointed at it with
    ``EMAIL_HOST``/``EMAIL_PORT``.
    """
    from tests.support.smtp_server import SmtpServer

    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    """Extra environment for the ``celery_worker_process`` worker; override it to add some."""
    return {}


@pytest.fixture
def celery_worker_log(tmp_path):
    """Where the ``celery_worker_process`` worker writes its output (a test can read it)."""
    return tmp_path / "celery-worker.log"


@pytest.fixture
def celery_worker_process(redis_url, celery_worker_env, celery_worker_log):
    """Start a real ``celery worker`` process consuming from Redis; yields a client app.

    The client app sends tasks by name to the same broker, like a web process would. The
    worker's environment is this process's plus ``celery_worker_env``; its output goes to
    ``celery_worker_log``.
    """
    import subprocess
    import sys
    from pathlib import Path

    import redis
    from celery import Celery

    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "worker-test-key"),
        **celery_worker_env,
    }
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = database_url_for_subprocess()
    project_root = Path(__file__).resolve().parent.parent
    log_file = celery_worker_log.open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=project_root,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = Celery("test-client", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        yield client
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log_file.close()
        client.close()
        if worker.returncode not in (0, -15):
            print(celery_worker_log.read_text())  # shown by pytest when the test fails


@pytest.fixture(scope="session")
def oidc_provider_url():
    """A real OpenID Connect provider on loopback for the whole session."""
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def oidc_settings(settings, oidc_provider_url):
    settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT = oidc_provider_url
    settings.SOCIAL_AUTH_OIDC_KEY = "b2b-site"
    settings.SOCIAL_AUTH_OIDC_SECRET = "b2b-site-secret"
    return settings
