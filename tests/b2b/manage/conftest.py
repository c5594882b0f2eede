"""Two organizations, each with a capped contract that has codes, and a manager of the first."""

from dataclasses import dataclass

import pytest
from django.db import connection

from b2b.services.invitations.managers import grant_manager
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


# A real failure half way: the database refuses to store the invitation of FAIL_ON. The same
# trigger in each database's dialect, so the tests run on PostgreSQL and on the embedded SQLite.
REFUSE = {
    "postgresql": (
        f"""
        CREATE FUNCTION test_refuse_invitation() RETURNS trigger AS $$
        BEGIN
          IF NEW.email = '{FAIL_ON}' THEN RAISE EXCEPTION 'the server went away'; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER test_refuse_invitation BEFORE INSERT ON b2b_invitation
          FOR EACH ROW EXECUTE FUNCTION test_refuse_invitation();
        """,
        "DROP TRIGGER test_refuse_invitation ON b2b_invitation;"
        "DROP FUNCTION test_refuse_invitation();",
    ),
    "sqlite": (
        f"""
        CREATE TRIGGER test_refuse_invitation BEFORE INSERT ON b2b_invitation
          FOR EACH ROW WHEN NEW.email = '{FAIL_ON}'
          BEGIN SELECT RAISE(ABORT, 'the server went away'); END;
        """,
        "DROP TRIGGER test_refuse_invitation;",
    ),
}


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
