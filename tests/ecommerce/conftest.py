import pytest

from tests.ecommerce import helpers


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
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_ACCESS_KEY = helpers.ACCESS_KEY
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_PROFILE_ID = helpers.PROFILE_ID
    settings.MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURITY_KEY = helpers.SECURITY_KEY
    return settings


@pytest.fixture
def learner(db, site_tree):
    return helpers.learner("ada@example.com", name="Ada Lovelace")


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client
