"""The lock order: every path that locks contract data takes its row locks here, in one order.

Two transactions that lock the same rows in opposite orders can each wait for the other, and
PostgreSQL then aborts one ("deadlock detected"). Every path takes its locks in this order,
skipping the levels it does not need and never going back up (docs/architecture.md, "Lock
order", says why):

1. the learner's basket (ecommerce's checkout and cart, before anything below);
2. the organization, to add a contract under it (``lock_organization``);
3. contracts, by ascending id (``lock_contract``, ``lock_contracts``);
4. a contract's code status row, right after its contract (``lock_for_change``,
   ``lock_for_reconciliation``);
5. the contract's runs and products;
6. enrollment codes;
7. orders; memberships, redemptions and enrollments are then inserted.

A contract is locked in the weakest mode that does the job (``ContractLock``). Plain ``FOR
UPDATE`` is kept for deletion: every row that references a contract (codes, memberships) makes
PostgreSQL take ``FOR KEY SHARE`` on it when the referencing transaction commits, and only
``FOR UPDATE`` conflicts with that.
"""

from collections.abc import Iterable
from enum import Enum

from django.db import connection

from b2b.exceptions import ContractNotFound, OrganizationNotFound
from b2b.models import ContractCodeStatus, ContractPage, OrganizationPage


class ContractLock(Enum):
    """How a contract row is locked."""

    # Rows that reference the contract are being written (a reconciliation's codes): it cannot
    # be deleted meanwhile; changes to its terms go on.
    SHARE = "share"
    # Its terms, courseware or learners change: one such change at a time.
    CHANGE = "change"
    # It is about to be deleted.
    DELETE = "delete"


def _missing(contract_ids: Iterable[int], found: Iterable[int]) -> None:
    absent = sorted(set(contract_ids) - set(found))
    if absent:
        raise ContractNotFound(f"No contract has id {absent[0]}")


def _share(contract_ids: list[int]) -> None:
    if connection.vendor != "postgresql":  # SQLite has no row locks: writers take turns
        found = ContractPage.objects.filter(pk__in=contract_ids).values_list("pk", flat=True)
        _missing(contract_ids, found)
        return
    table = connection.ops.quote_name(ContractPage._meta.db_table)
    key = connection.ops.quote_name(ContractPage._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {key} FROM {table} WHERE {key} = ANY(%s) ORDER BY {key} FOR KEY SHARE",
            [contract_ids],
        )
        _missing(contract_ids, (row[0] for row in cursor.fetchall()))


def lock_contracts(
    contract_ids: Iterable[int], *, mode: ContractLock = ContractLock.CHANGE
) -> list[ContractPage]:
    """Lock the contracts, by ascending id, until the transaction ends; returns them in that
    order (nothing for ``SHARE``, which does not read them). Raises ContractNotFound."""
    ids = sorted(set(contract_ids))
    if not ids:
        return []
    if mode is ContractLock.SHARE:
        _share(ids)
        return []
    contracts = list(
        ContractPage.objects.filter(pk__in=ids)
        .order_by("pk")
        .select_for_update(no_key=mode is ContractLock.CHANGE)
    )
    _missing(ids, (contract.pk for contract in contracts))
    return contracts


def lock_contract(contract_id: int, *, mode: ContractLock = ContractLock.CHANGE) -> ContractPage:
    """Lock and read one contract (``CHANGE`` or ``DELETE``). Raises ContractNotFound."""
    if mode is ContractLock.SHARE:
        raise ValueError("a contract locked to share is not read: use lock_contracts")
    (contract,) = lock_contracts([contract_id], mode=mode)
    return contract


def _lock_code_status(contract_id: int) -> ContractCodeStatus:
    ContractCodeStatus.objects.bulk_create(
        [ContractCodeStatus(contract_id=contract_id)], ignore_conflicts=True
    )
    return ContractCodeStatus.objects.select_for_update(no_key=True).get(pk=contract_id)


def lock_for_change(contract_id: int) -> ContractPage:
    """Lock the contract for a change, then its code status row: what every change that may
    request a code reconciliation takes first (terms, courseware, a Wagtail publish)."""
    contract = lock_contract(contract_id, mode=ContractLock.CHANGE)
    _lock_code_status(contract_id)
    return contract


def lock_for_reconciliation(contract_id: int) -> ContractCodeStatus:
    """Share the contract, then lock its code status row: one reconciliation of a contract at
    a time, while changes to its terms go on. Returns the status row."""
    lock_contracts([contract_id], mode=ContractLock.SHARE)
    return _lock_code_status(contract_id)


def lock_organization(organization_id: int) -> OrganizationPage:
    """Lock the organization (to add a contract under it). Raises OrganizationNotFound."""
    found = (
        OrganizationPage.objects.filter(pk=organization_id).select_for_update(no_key=True).first()
    )
    if found is None:
        raise OrganizationNotFound(f"No organization has id {organization_id}")
    return found
