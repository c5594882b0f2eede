import pytest
from rest_framework.test import APIClient

from tests.support import factories as f


@pytest.fixture
def staff(db):
    return f.UserFactory(is_staff=True, email="admin@example.com")


@pytest.fixture
def staff_api(staff, site_tree):
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def learner(db):
    return f.UserFactory(email="ada@example.com")


@pytest.fixture
def learner_api(learner, site_tree):
    client = APIClient()
    client.force_authenticate(learner)
    return client
