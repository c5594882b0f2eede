import pytest

from tests.ecommerce import helpers
from tests.support.cybersource_server import ACCESS_KEY, PROFILE_ID, SECURITY_KEY


@pytest.fixture(autouse=True)
def _no_openedx(no_openedx):
    """Enrollments stay local: the Open edX push is another module's business."""


@pytest.fixture
def cybersource(settings):
    """Secure Acceptance settings with a known key (the processor itself is never called)."""
    settings.ECOMMERCE_DEFAULT_PAYMENT_GATEWAY = "CyberSource"
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURE_ACCEPTANCE_URL = (
        "https://testsecureacceptance.example.com/pay"
    )
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_ACCESS_KEY = ACCESS_KEY
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_PROFILE_ID = PROFILE_ID
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURITY_KEY = SECURITY_KEY
    return settings


@pytest.fixture
def learner(db, site_tree):
    return helpers.learner("ada@example.com", name="Ada Lovelace")


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client
