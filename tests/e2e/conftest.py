"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

The Chromium launch options and DJANGO_ALLOW_ASYNC_UNSAFE are set in tests/conftest.py.
"""

import pytest

from tests.support.cybersource_server import (
    ACCESS_KEY,
    PROFILE_ID,
    SECURITY_KEY,
    CyberSourceStandIn,
)


@pytest.fixture(autouse=True)
def _no_openedx(no_openedx):
    """Enrollments stay local: nothing is pushed to an Open edX."""


@pytest.fixture
def site(settings, live_server, site_tree):
    """The live server, with the site's own base URL (e-mails, CSV links) pointing at it."""
    settings.SITE_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def standin(settings):
    """The CyberSource stand-in on loopback, with the settings the site pays through."""
    server = CyberSourceStandIn().start()
    settings.ECOMMERCE_DEFAULT_PAYMENT_GATEWAY = "CyberSource"
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURE_ACCEPTANCE_URL = server.url
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_ACCESS_KEY = ACCESS_KEY
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_PROFILE_ID = PROFILE_ID
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURITY_KEY = SECURITY_KEY
    try:
        yield server
    finally:
        server.stop()
