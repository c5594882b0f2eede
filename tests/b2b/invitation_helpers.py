"""Helpers for invitation tests: a contract with products and its codes, invitations' rows."""

from b2b.models import Invitation
from tests import factories as f
from tests.b2b.codes_helpers import contract_with_products, reconcile


def contract_with_codes(*, products=1, **terms):
    """A contract with ``products`` runs for sale and its codes made (reconciled)."""
    terms.setdefault("enrollment_fixed_price", "10.00")
    contract, made = contract_with_products(products=products, **terms)
    contract.refresh_from_db()
    reconcile(contract)
    return contract, made


def manager():
    return f.UserFactory()


def emails_of(contract, **filters):
    return sorted(
        Invitation.objects.filter(contract=contract, **filters).values_list("email", flat=True)
    )
