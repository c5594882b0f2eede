"""Reconciliation running while a checkout takes a code, on PostgreSQL with real connections.

The checkout has locked the code and written its pending order but not committed yet when the
operator's change starts reconciling; the reconciliation must wait for it, see the order once
it commits, and leave the code to the learner who is paying with it.
"""

import logging
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from b2b.models import ContractCodeStatus, ContractMembership
from b2b.services.contracts.terms import ContractChange, modify_contract
from ecommerce.constants import PENDING_ORDER_HOLD
from ecommerce.enums import OrderState
from ecommerce.models import BasketDiscount, Discount, Order
from ecommerce.services.baskets import add_product_to_basket, apply_code_to_basket
from ecommerce.services.checkout import check_out
from tests.ecommerce import helpers as h
from tests.support.cybersource_server import processor_response

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

URLS = h.PAYMENT_URLS


def _sessions_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _in_thread(call, outcome: dict, key: str) -> threading.Thread:
    def run():
        try:
            outcome[key] = call()
        except Exception as exc:  # asserted on by the test
            outcome[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _race_checkout_with(change: ContractChange, contract, learner):
    """Ada's checkout holds her code, uncommitted, while ``change`` is made and reconciled (no
    broker: the reconciliation runs right after the change commits, in the same thread). The
    checkout commits once the reconciliation is seen waiting for a lock. Returns the checkout's
    outcome."""
    placed, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def checkout():
        with transaction.atomic():
            result = check_out(user=learner, ip_address="127.0.0.1", urls=URLS)
            placed.set()
            assert release.wait(60)
        return result

    buyer = _in_thread(checkout, outcome, "checkout")
    assert placed.wait(60)
    operator = _in_thread(
        lambda: modify_contract(contract_id=contract.pk, change=change), outcome, "modify"
    )
    deadline = time.monotonic() + 60
    while not _sessions_waiting_for_a_lock():
        assert time.monotonic() < deadline, "the reconciliation never waited for the checkout"
        assert operator.is_alive(), outcome
        time.sleep(0.05)
    release.set()
    buyer.join(60)
    operator.join(120)
    assert not buyer.is_alive() and not operator.is_alive()
    assert not isinstance(outcome["checkout"], Exception), outcome
    assert not isinstance(outcome["modify"], Exception), outcome
    return outcome["checkout"]


def _ready(learner, product, code):
    """The learner's cart holds the product and the code, applied long ago: only the order
    being placed holds the code now."""
    add_product_to_basket(user=learner, product_id=product.pk)
    apply_code_to_basket(user=learner, code=code.discount_code)
    long_ago = timezone.now() - PENDING_ORDER_HOLD - timedelta(minutes=5)
    BasketDiscount.objects.update(created_on=long_ago)


def _active(codes):
    found = dict(
        Discount.objects.filter(pk__in=[c.pk for c in codes]).values_list("pk", "is_active")
    )
    return [found.get(code.pk) for code in codes]


def _accept(fields):
    response = Client(enforce_csrf_checks=True).post(
        "/checkout/receipt/", processor_response(fields)
    )
    assert response.status_code == 302


def test_lowering_the_cap_while_a_checkout_takes_the_newest_code(site_tree, cybersource, caplog):
    contract, (product,) = h.b2b_product(max_learners=3, enrollment_fixed_price=Decimal("100"))
    codes = list(Discount.objects.filter(b2b_contract=contract).order_by("pk"))
    ada = h.learner("ada@example.com")
    _ready(ada, product, codes[2])

    with caplog.at_level(logging.INFO):
        outcome = _race_checkout_with(ContractChange(max_learners=1), contract, ada)

    # The reconciliation took the newest codes, found that the checkout it waited for holds
    # one of them, gave it back and took the oldest code instead: exactly one usable code, the
    # held one, and the contract up to date.
    assert _active(codes) == [False, False, True]
    assert not ContractCodeStatus.objects.get(pk=contract.pk).is_pending
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

    _accept(outcome.payment.fields)

    order = Order.objects.get()
    assert (order.state, order.refund_due) == (OrderState.FULFILLED, False)
    assert ContractMembership.objects.get().user == ada


def test_sso_free_uncapped_deletion_while_a_checkout_takes_a_code(site_tree, cybersource, caplog):
    contract, (product,) = h.b2b_product(
        integration_type="sso", max_learners=3, enrollment_fixed_price=Decimal("100")
    )
    codes = list(Discount.objects.filter(b2b_contract=contract).order_by("pk"))
    ada = h.learner("ada@example.com")
    _ready(ada, product, codes[2])

    with caplog.at_level(logging.INFO):
        outcome = _race_checkout_with(
            ContractChange(max_learners=None, enrollment_fixed_price=None), contract, ada
        )

    # The unused codes are gone; the one the checkout was taking stays, with its order.
    assert _active(codes) == [None, None, True]
    assert Order.objects.get().discount_id == codes[2].pk
    assert ContractCodeStatus.objects.get(pk=contract.pk).is_pending  # until it is settled
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

    _accept(outcome.payment.fields)

    order = Order.objects.get()
    assert (order.state, order.refund_due) == (OrderState.FULFILLED, False)
    assert ContractMembership.objects.get().user == ada
