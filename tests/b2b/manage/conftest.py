"""Two organizations, each with a capped contract that has codes, and a manager of the first."""

from dataclasses import dataclass

import pytest

from b2b.services.managers import grant_manager
from tests import factories as f
from tests.b2b.codes_helpers import contract_with_products, reconcile
from tests.ecommerce import helpers as h


@dataclass
class Orgs:
    a: object
    b: object
    contract_a: object
    contract_b: object
    manager: object


def capped_contract(org, *, cap=10, title="Leadership 2026"):
    contract, _products = contract_with_products(
        products=1, parent=org, max_learners=cap, title=title
    )
    reconcile(contract)
    return contract


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
