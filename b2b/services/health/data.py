"""What b2b's health checks share: ``HealthData`` reads the contracts, their code statuses, runs
and products once, lazily, so a check run alone reads only what it needs; and the names of
b2b's repairs, which its checks give and ``repair`` runs.

A check never writes: what can be repaired is said on the finding (its ``repair`` and
``target``) and done by ``b2b.services.health.repair``.
"""

from functools import cached_property

from b2b.models import ContractCodeStatus, ContractPage
from b2b.selectors import health as selectors_health
from config.health_registry import HealthScope
from courses import selectors as courses_selectors
from courses.selectors import ContractRunState
from ecommerce.services.contract_codes import reads as ecommerce_codes
from ecommerce.services.contract_codes.reads import RunProduct

# b2b's repairs, by the name a finding gives.
RECONCILE = "reconcile-codes"
REQUEUE_INVITATIONS = "requeue-invitations"


class HealthData:
    """What b2b's checks read, for the report's scope (``scope.contract_ids`` None: all)."""

    def __init__(self, scope: HealthScope):
        self.scope = scope
        self.contract_ids = scope.contract_ids
        self.now = scope.now
        self.codes_pending_before = scope.codes_pending_before
        self.openedx_pending_before = scope.openedx_pending_before

    @cached_property
    def contracts(self) -> dict[int, ContractPage]:
        return selectors_health.contracts_by_id(self.contract_ids)

    @cached_property
    def statuses(self) -> dict[int, ContractCodeStatus]:
        return selectors_health.code_statuses(self.contract_ids)

    def codes_pending(self, contract_id: int) -> bool:
        status = self.statuses.get(contract_id)
        return status is not None and status.is_pending

    @property
    def runs(self) -> list[ContractRunState]:
        """The contracts' runs, read once for the report (courses' Open edX checks read the
        same rows)."""
        return self.scope.shared(courses_selectors.contract_run_states)

    @cached_property
    def products(self) -> dict[int, RunProduct]:
        """Run id -> its active product."""
        return ecommerce_codes.active_products_by_run([run.id for run in self.runs])

    def contract_name(self, contract_id: int | None) -> str:
        contract = self.contracts.get(contract_id) if contract_id is not None else None
        return contract.title if contract is not None else ""
