"""Dry runs: carry out a change inside a transaction, measure it, then roll it all back."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

from b2b.models import ContractPage
from b2b.services.codes.rules import CodePlan, plan_reconciliation

T = TypeVar("T")


class _RolledBack(Exception):
    def __init__(self, result: Any, plan: CodePlan) -> None:
        self.result = result
        self.plan = plan


def preview(action: Callable[[], T], *, contract_id: int | None = None) -> tuple[T, CodePlan]:
    """Run ``action``, plan the code reconciliation it would cause, and undo everything.

    Without ``contract_id`` the contract is the one ``action`` returns (``result.contract``),
    as when it creates one.

    Work scheduled with ``transaction.on_commit`` (queued tasks) is discarded with the rollback.
    """
    try:
        with transaction.atomic():
            result = action()
            if contract_id is None:
                contract_id = result.contract.pk  # type: ignore[attr-defined]
            plan = plan_reconciliation(ContractPage.objects.get(pk=contract_id))
            raise _RolledBack(result, plan)
    except _RolledBack as rolled_back:
        return rolled_back.result, rolled_back.plan
