"""How many enrollment codes a contract may hold: the one check every change path makes.

A capped contract that gives codes holds one per learner and product (cap x products); a mistyped
cap would otherwise queue billions of codes. Creating or modifying a contract, adding courseware
and publishing it in Wagtail all call ``check_code_bound`` with the terms the change would give
the contract, before anything is written, and are refused with ``TooManyCodes`` above
``B2B_MAX_CODES_PER_CONTRACT``.
"""

from django.conf import settings

from b2b.exceptions import TooManyCodes
from b2b.models import ContractPage
from b2b.services.code_terms import contract_product_ids
from b2b.services.codes.rules import CodeMode, code_mode


def codes_for_terms(contract: ContractPage, *, products: int) -> int:
    """How many codes the contract's terms give it over ``products`` products (see the table in
    ``b2b.services.codes``): one per learner and product under a cap, one per product without
    one, none for a free SSO contract."""
    mode = code_mode(contract)
    if mode is CodeMode.ONE_TIME:
        return (contract.max_learners or 0) * products
    if mode is CodeMode.UNLIMITED:
        return products
    return 0


def check_code_bound(*, contract: ContractPage, products: int | None = None) -> None:
    """Raise TooManyCodes when the contract's terms, as they stand on the instance (saved or
    not), would give it more codes than B2B_MAX_CODES_PER_CONTRACT.

    ``products`` is how many products the contract sells; by default those of its runs are
    counted (one query; none for a contract not saved yet, which has no runs).
    """
    if code_mode(contract) not in (CodeMode.ONE_TIME, CodeMode.UNLIMITED):
        return
    if products is None:
        products = len(contract_product_ids(contract.pk)) if contract.pk else 0
    needed = codes_for_terms(contract, products=products)
    limit = settings.B2B_MAX_CODES_PER_CONTRACT
    if needed <= limit:
        return
    what = f"{products:,} product{'' if products == 1 else 's'}"
    if code_mode(contract) is CodeMode.ONE_TIME:
        what = f"A cap of {contract.max_learners:,} learners on {what}"
    raise TooManyCodes(
        f"{what} would create {needed:,} enrollment codes; a contract may hold at most "
        f"{limit:,} (B2B_MAX_CODES_PER_CONTRACT)"
    )
