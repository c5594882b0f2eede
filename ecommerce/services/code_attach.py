"""Joining a contract with an enrollment code alone, without a cart (the API's attach).

Only for a free contract (no price, or 0): a priced contract's code is used at checkout, and the
refusal carries the addresses that put its courses in the cart. The code is checked by the cart's
own rules (``validate_code``, with the code's row locked, as checkout does), and its use is
recorded as checkout records it: a fulfilled order of nothing, carrying the code, fulfilled by
``fulfil_order`` (the redemption, then ``attach_learner`` under the contract's lock). Every
refused code counts against the learner and the address (``throttled_code_attempt``).
"""

from dataclasses import dataclass

from django.db import transaction
from wagtail.models import Page

from b2b.enums import AdmissionRefusal, MembershipSource
from b2b.services.memberships import admission_refusal, lock_contracts_to_join
from ecommerce import selectors
from ecommerce.exceptions import CodeInactive, CodeWithoutContract, ContractPriced
from ecommerce.services.code_attempts import throttled_code_attempt
from ecommerce.services.code_validation import find_code, validate_code
from ecommerce.services.fulfilment import create_order, fulfil_order
from users.models import User


@dataclass(frozen=True)
class CodeAttachment:
    contract: Page  # the code's b2b.ContractPage
    joined: bool  # False: the learner already belonged to it


def attach_with_code(*, user: User, code: str, address: str) -> CodeAttachment:
    """Attach ``user`` to the contract of ``code``; see the module docstring.

    Raises CodeNotFound / CodeInactive / CodeWithoutContract (unknown codes), ContractPriced, the
    other CodeRefused errors of ``validate_code``, ContractRefused when the contract fills up
    under us, and TooManyCodeAttempts.
    """
    return throttled_code_attempt(
        user=user, address=address, attempt=lambda: _attach(user=user, code=code)
    )


@transaction.atomic
def _attach(*, user: User, code: str) -> CodeAttachment:
    # The lock order (docs/architecture.md): the contract before the code. Read the code
    # without a lock to learn its contract, lock the contract, then lock and re-read the code.
    contract_id = find_code(code).b2b_contract_id
    if contract_id is None:
        raise CodeWithoutContract
    lock_contracts_to_join([contract_id])
    discount = find_code(code, lock=True)
    if not discount.is_active:
        raise CodeInactive
    contract = discount.b2b_contract
    if contract is None or contract.pk != contract_id:  # changed before the lock was had
        raise CodeWithoutContract
    if admission_refusal(contract=contract, user=user, members_only=True) != (
        AdmissionRefusal.NOT_MEMBER
    ):
        return CodeAttachment(contract=contract, joined=False)
    products = list(discount.products.all())
    if not contract.is_free:
        raise ContractPriced(product_urls=tuple(selectors.product_cart_url(p.pk) for p in products))
    validate_code(user=user, code=code, products=products, lock=True)
    order = create_order(user=user, lines=[], discount=discount)
    fulfil_order(order=order, source=MembershipSource.CODE)
    return CodeAttachment(contract=contract, joined=True)
