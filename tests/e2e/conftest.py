"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, so Django's async-safety check must
be relaxed before any database access (the test thread is still the only one using it).
"""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest


@pytest.fixture(autouse=True)
def _no_openedx(settings):
    """Enrollments stay local: nothing is pushed to an Open edX."""
    for name in (
        "OPENEDX_API_BASE_URL",
        "OPENEDX_STUDIO_API_BASE_URL",
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID",
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET",
    ):
        setattr(settings, name, None)
