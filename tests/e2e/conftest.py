"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

The Chromium launch options and DJANGO_ALLOW_ASYNC_UNSAFE are set in tests/conftest.py.
"""

import pytest


@pytest.fixture(autouse=True)
def _no_openedx(no_openedx):
    """Enrollments stay local: nothing is pushed to an Open edX."""
