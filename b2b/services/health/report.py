"""``health_report``: every check over the whole system, or over one contract, errors first.

The checks are b2b's own (``checks.CHECKS``, over ``HealthData``) and those the other apps
contribute (``config.health_registry``, over the ``HealthScope``): b2b does not read their
failure states, it runs their checks. Each check is set-based: the report reads a constant
number of queries whatever the number of contracts, codes or learners.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from b2b.exceptions import ContractNotFound
from b2b.services.health.checks import CHECKS
from b2b.services.health.data import HealthData
from config.health_registry import Finding, HealthScope, HealthSeverity, registered_checks

_SEVERITY_ORDER = {HealthSeverity.ERROR: 0, HealthSeverity.WARNING: 1}


@dataclass(frozen=True)
class HealthReport:
    findings: list[Finding]
    contracts_checked: int
    whole_system: bool  # every contract was checked (no --contract)
    scope: HealthScope  # what the checks looked at; the repairs act on the same window

    @property
    def healthy(self) -> bool:
        return not self.findings


def _sort_key(finding: Finding) -> tuple[int, bool, int, str, str]:
    return (
        _SEVERITY_ORDER[finding.severity],
        finding.contract_id is None,
        finding.contract_id or 0,
        finding.check,
        finding.subject,
    )


def health_report(*, contract_id: int | None = None, now: datetime | None = None) -> HealthReport:
    """Run every check over the whole system, or over one contract (``ContractNotFound`` when it
    does not exist)."""
    now = now or timezone.now()
    scope = HealthScope(
        contract_ids=None if contract_id is None else [contract_id],
        now=now,
        codes_pending_before=now - timedelta(seconds=settings.B2B_HEALTH_CODES_PENDING_SECONDS),
        openedx_pending_before=now - timedelta(seconds=settings.B2B_HEALTH_OPENEDX_PENDING_SECONDS),
    )
    data = HealthData(scope)
    if contract_id is not None and contract_id not in data.contracts:
        raise ContractNotFound(f"No contract with id {contract_id}")
    findings = [finding for check in CHECKS.values() for finding in check(data)]
    findings += [finding for check in registered_checks().values() for finding in check(scope)]
    named = [replace(f, contract_name=data.contract_name(f.contract_id)) for f in findings]
    return HealthReport(
        findings=sorted(named, key=_sort_key),
        contracts_checked=len(data.contracts),
        whole_system=contract_id is None,
        scope=scope,
    )


def contract_label(finding: Finding) -> str:
    """The contract of a finding as the report writes it: "<id> <name>", or "-" for none."""
    if finding.contract_id is None:
        return "-"
    return f"{finding.contract_id} {finding.contract_name}".strip()
