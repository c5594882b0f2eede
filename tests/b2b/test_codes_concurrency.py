"""Reconciliation under real parallel connections on PostgreSQL."""

import threading

import pytest
from django.db import connection, models

from b2b.models import ContractCodeStatus
from b2b.services.codes.reconcile import reconcile_contract_codes
from tests.b2b.helpers import contract_with_products, summary

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _in_parallel(functions):
    barrier = threading.Barrier(len(functions))
    errors = []
    results = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait(timeout=10)
            results[index] = function()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_concurrent_reconciliations_leave_exactly_the_right_codes(site_tree):
    contract, products = contract_with_products(products=3, max_learners=400)
    results = _in_parallel(
        [lambda: reconcile_contract_codes(contract_id=contract.pk, force=True)] * 2
    )
    for product in products:
        assert summary(product) == (400, 0, 0, 0)
    created = sorted(r.plan.codes_to_create for r in results)
    assert created == [0, 1200]  # the second waited for the first, then found nothing to do


def test_piled_up_requests_coalesce(site_tree):
    contract, products = contract_with_products(products=1, max_learners=5)
    # Outside a transaction, each request's queued (eager) task runs at once; pile the requests
    # up inside one transaction instead, as concurrent edits would before a worker gets to them.
    from django.db import transaction

    with transaction.atomic():
        for _ in range(3):
            ContractCodeStatus.objects.get_or_create(contract_id=contract.pk)
            ContractCodeStatus.objects.filter(pk=contract.pk).update(
                requested_version=models.F("requested_version") + 1
            )
    results = _in_parallel([lambda: reconcile_contract_codes(contract_id=contract.pk)] * 3)
    assert sorted(r.skipped for r in results) == [False, True, True]
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert status.reconciled_version == status.requested_version == 3
    assert status.pending_since is None
    assert summary(products[0]) == (5, 0, 0, 0)
