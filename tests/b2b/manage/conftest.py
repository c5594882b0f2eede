"""Two organizations, each with a capped contract that has codes, and a manager of the first."""

from dataclasses import dataclass

import pytest
from django.db import connection

from b2b.services.invitations.managers import grant_manager
from tests.b2b.helpers import REFUSE, capped_contract
from tests.ecommerce import helpers as h
from tests.support import factories as f


@dataclass
class Orgs:
    a: object
    b: object
    contract_a: object
    contract_b: object
    manager: object


@pytest.fixture
def orgs(db, site_tree):
    a = f.OrganizationPageFactory(title="Acme University")
    b = f.OrganizationPageFactory(title="Borealis Corp")
    contract_a = capped_contract(a, title="Acme Leadership")
    contract_b = capped_contract(b, title="Borealis Sales")
    manager = h.learner("lead@acme.example", name="Lea Lead")
    grant_manager(user=manager, organization=a)
    return Orgs(a=a, b=b, contract_a=contract_a, contract_b=contract_b, manager=manager)


@pytest.fixture
def manager_client(client, orgs):
    client.force_login(orgs.manager)
    return client


@pytest.fixture
def failing_insert():
    """The database refuses to store the invitation of FAIL_ON until ``heal()`` is called."""
    create, drop = REFUSE[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(create)

    def heal():
        with connection.cursor() as cursor:
            cursor.execute(drop)

    return heal
