"""Two organizations, each with a capped contract that has codes, and a manager of the first."""

from dataclasses import dataclass

import pytest
from django.db import connection

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


FAIL_ON = "crash@acme.example"


@pytest.fixture
def failing_insert():
    """A real failure half way: PostgreSQL refuses to store the invitation of FAIL_ON."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION test_refuse_invitation() RETURNS trigger AS $$
            BEGIN
              IF NEW.email = '{FAIL_ON}' THEN RAISE EXCEPTION 'the server went away'; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_refuse_invitation BEFORE INSERT ON b2b_invitation
              FOR EACH ROW EXECUTE FUNCTION test_refuse_invitation();
            """
        )

    def heal():
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER test_refuse_invitation ON b2b_invitation;"
                "DROP FUNCTION test_refuse_invitation();"
            )

    return heal
