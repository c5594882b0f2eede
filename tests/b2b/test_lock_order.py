"""The one lock order (docs/architecture.md, "Lock order"), proven where paths used to cross.

Each test holds one side at a known point (a reconciliation paused between two batches of codes,
a change holding its contract) and lets the other side run into it, on real parallel
connections. Taken in opposite orders, PostgreSQL would abort one of them with "deadlock
detected"; in the documented order each side waits its turn and both finish.
"""

import threading

import pytest
from django.db import transaction

from b2b.models import ContractPage
from b2b.services.codes.reconcile import reconcile_contract_codes, request_code_reconciliation
from b2b.services.contracts.terms import ContractChange, get_contract, modify_contract
from ecommerce.enums import OrderState
from ecommerce.services.baskets import add_product_to_basket, apply_code_to_basket
from ecommerce.services.checkout import PaymentUrls, check_out
from tests.b2b.helpers import contract_with_products, summary
from tests.ecommerce import helpers as h
from tests.support.databases import lock_waiters
from tests.support.races import InThread, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_change_waits_for_a_reconciliation_writing_codes(site_tree, settings):
    """A reconciliation's new codes reference the contract; committing them must not wait for
    a change that holds the contract while it waits for the reconciliation."""
    settings.B2B_CODE_BATCH_SIZE = 10
    contract, products = contract_with_products(products=2, max_learners=30)
    paused, resume = threading.Event(), threading.Event()

    def pause_after_the_first_batch(step, done, total):
        if not paused.is_set():
            paused.set()
            resume.wait(30)

    reconciling = InThread(
        lambda: reconcile_contract_codes(
            contract_id=contract.pk, force=True, progress=pause_after_the_first_batch
        )
    )
    wait_until(paused.is_set, what="the reconciliation has written a batch of codes")
    modifying = InThread(
        lambda: modify_contract(contract_id=contract.pk, change=ContractChange(max_learners=40))
    )
    wait_until(lambda: lock_waiters() == 1, what="the change waits for the reconciliation")
    resume.set()

    assert reconciling.result().plan.codes_to_create == 60
    assert modifying.result().changes == {"max_learners": (30, 40)}
    # The change's own reconciliation ran after its commit (no broker: in its thread).
    for product in products:
        assert summary(product) == (40, 0, 0, 0)


def test_checkout_change_and_reconciliation_of_one_contract_all_finish(site_tree):
    """Three paths on one contract at once: a change holding the contract, a learner checking
    out with one of its codes, and a reconciliation rewriting those codes. Checkout takes the
    contract before the code, so the reconciliation never waits for a code held by someone
    who waits for the contract."""
    contract, (product,) = h.b2b_product(max_learners=5)
    code = h.code_for(product)
    learner = h.learner()
    add_product_to_basket(user=learner, product_id=product.pk)
    apply_code_to_basket(user=learner, code=code.discount_code)
    # A committed change whose reconciliation has not run yet: without a cap, the one-time
    # codes become unlimited, so the reconciliation rewrites every code, the learner's too.
    ContractPage.objects.filter(pk=contract.pk).update(max_learners=None)

    holding, go_on = threading.Event(), threading.Event()

    def change_holding_the_contract():
        with transaction.atomic():
            get_contract(contract.pk, for_update=True)
            holding.set()
            go_on.wait(30)
            request_code_reconciliation(contract.pk)

    changing = InThread(change_holding_the_contract)
    wait_until(holding.is_set, what="the change holds the contract")
    urls = PaymentUrls(receipt_url="http://testserver/r/", cancel_url="http://testserver/c/")
    checking_out = InThread(lambda: check_out(user=learner, ip_address="127.0.0.1", urls=urls))
    wait_until(lambda: lock_waiters() == 1, what="checkout waits for the contract")
    reconciling = InThread(lambda: reconcile_contract_codes(contract_id=contract.pk, force=True))
    wait_until(
        lambda: reconciling.done.is_set() or lock_waiters() == 2,
        what="the reconciliation finished or waits",
    )
    go_on.set()

    assert reconciling.result().plan.codes_to_retype == 5
    changing.result()
    outcome = checking_out.result()
    assert outcome.is_complete
    outcome.order.refresh_from_db()
    assert (outcome.order.state, outcome.order.discount_id) == (OrderState.FULFILLED, code.pk)
    assert summary(product) == (0, 4, 0, 1)
