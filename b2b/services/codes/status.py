"""The book-keeping of code reconciliations: which contracts wait for one, and the last error.

``ContractCodeStatus`` says whether a contract's codes are pending (a reconciliation was
requested and has not run yet) and, when the last attempt failed, why, on one line. A success
clears the error (``codes.reconcile_contract_codes``).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from b2b.exceptions import ContractNotFound
from b2b.models import ContractCodeStatus
from config.db_errors import one_line

# How much of an error message is kept.
ERROR_LENGTH = 500


def record_reconciliation_failure(*, contract_id: int, error: str) -> None:
    """Keep ``error`` (its first line) as the contract's last reconciliation error."""
    line = (error.strip().splitlines() or [""])[0][:ERROR_LENGTH]
    ContractCodeStatus.objects.bulk_create(
        [ContractCodeStatus(contract_id=contract_id)], ignore_conflicts=True
    )
    ContractCodeStatus.objects.filter(pk=contract_id).update(last_error=line)


@contextmanager
def recorded_failure(contract_id: int) -> Iterator[None]:
    """Record why the reconciliation in the ``with`` block failed, then let the error go on.

    Only when the failure ended the transaction (no caller's transaction is still open, whose
    rollback would take the record with it).
    """
    try:
        yield
    except ContractNotFound:
        raise
    except Exception as exc:
        if not connection.in_atomic_block:
            record_reconciliation_failure(contract_id=contract_id, error=one_line(exc))
        raise


def pending_contract_ids(*, older_than: timedelta | None = None) -> list[int]:
    """Contracts whose codes are pending, by id; with ``older_than``, only those pending for at
    least that long."""
    statuses = ContractCodeStatus.objects.filter(requested_version__gt=F("reconciled_version"))
    if older_than is not None:
        statuses = statuses.filter(
            Q(pending_since__isnull=True) | Q(pending_since__lte=timezone.now() - older_than)
        )
    return list(statuses.order_by("contract_id").values_list("contract_id", flat=True))


def code_status(contract_id: int) -> ContractCodeStatus | None:
    """The contract's code status, if a reconciliation was ever requested or recorded."""
    return ContractCodeStatus.objects.filter(pk=contract_id).first()
