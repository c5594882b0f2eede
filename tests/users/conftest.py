"""Fixtures of the user admin's tests."""

import pytest

from tests.support import factories as f


@pytest.fixture
def admin_client(client, site_tree):
    """A client signed in as a superuser (``client.staff``), on the site's page tree."""
    staff = f.UserFactory(is_staff=True, is_superuser=True, email="staff@example.com")
    client.force_login(staff)
    client.staff = staff
    return client
