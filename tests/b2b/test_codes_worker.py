"""The reconciliation task, run by a real Celery worker on Redis against PostgreSQL."""

import pytest
from django.db.models import F

from b2b.models import ContractCodeStatus
from tests.b2b.helpers import contract_with_products, summary

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_worker_reconciles_a_contract(site_tree, celery_worker_process):
    contract, products = contract_with_products(products=2, max_learners=25)
    ContractCodeStatus.objects.create(contract=contract)
    ContractCodeStatus.objects.filter(pk=contract.pk).update(
        requested_version=F("requested_version") + 1
    )

    first = celery_worker_process.send_task("b2b.reconcile_contract_codes", args=[contract.pk])
    assert first.get(timeout=90) == {
        "contract_id": contract.pk,
        "skipped": False,
        "created": 50,
        "deactivated": 0,
        "reactivated": 0,
        "deleted": 0,
    }
    again = celery_worker_process.send_task("b2b.reconcile_contract_codes", args=[contract.pk])
    assert again.get(timeout=30) == {"contract_id": contract.pk, "skipped": True}
    for product in products:
        assert summary(product) == (25, 0, 0, 0)
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert status.reconciled_version == 1 and status.pending_since is None
