"""``repair_findings``: what ``--fix`` does unattended, and what it leaves for a person.

A finding names its repair; b2b's own (request a code reconciliation, queue the invitation
work again) are here, the other apps' (queue an Open edX copy or enrollment push again) come
from ``config.health_registry``. Each repair is done once per target, even when several
findings call for it.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from b2b.exceptions import B2BError
from b2b.services.codes.reconcile import request_code_reconciliation
from b2b.services.health.data import RECONCILE, REQUEUE_INVITATIONS
from b2b.services.health.report import HealthReport
from b2b.services.invitations.sweep import requeue_invitation_work
from config.health_registry import Finding, HealthScope, Repair, registered_repairs


@dataclass
class RepairOutcome:
    repaired: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, what was done)
    left: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, why it was left)


def _reconcile(contract_id: int, scope: HealthScope) -> str:
    with transaction.atomic():
        request_code_reconciliation(contract_id)
    return "requested the code reconciliation"


def _requeue_invitations(contract_id: int, scope: HealthScope) -> str:
    requeued = requeue_invitation_work(contract_id=contract_id)
    return (
        f"queued {len(requeued.job_ids)} invite job(s) and {len(requeued.email_ids)} "
        "invitation e-mail(s) again"
    )


# A contract deleted meanwhile is a b2b error: the finding is left for a person.
REPAIRS: dict[str, Repair] = {
    RECONCILE: Repair(_reconcile, refused_by=(B2BError,)),
    REQUEUE_INVITATIONS: Repair(_requeue_invitations, refused_by=(B2BError,)),
}


def _run(repair: Repair, target: Any, scope: HealthScope) -> str | Exception:
    try:
        return repair.run(target, scope)
    except repair.refused_by as exc:
        return exc


def repair_findings(report: HealthReport) -> RepairOutcome:
    """Repair what is safe. Findings without a repair, and those whose repair could not be done
    (Open edX not configured, a contract deleted meanwhile), are left for a person."""
    repairs = {**registered_repairs(), **REPAIRS}
    outcome = RepairOutcome()
    done: dict[tuple[str, object], str | Exception] = {}
    for finding in report.findings:
        if finding.repair is None:
            outcome.left.append((finding, "needs a person"))
            continue
        key = (finding.repair, finding.target)
        if key not in done:
            done[key] = _run(repairs[finding.repair], finding.target, report.scope)
        result = done[key]
        if isinstance(result, Exception):
            outcome.left.append((finding, f"could not repair: {result}"))
        else:
            outcome.repaired.append((finding, result))
    return outcome
