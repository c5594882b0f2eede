"""The health report: what is wrong in the system, one finding per problem, with how to fix it.

``health_report`` runs every check of ``b2b.services.health_checks`` (each set-based: a
constant number of queries whatever the number of contracts, codes or learners) and returns
the findings, errors first. ``repair_findings`` does what is safe to do unattended (request a
code reconciliation, queue an Open edX copy or enrollment push again) and returns what it left
for a person. ``notify_staff`` is the periodic report's part: it logs the findings and mails
``B2B_STAFF_ALERT_EMAILS`` the ones it has not reported before.

Entry points: ``manage.py b2b_health``, the Wagtail dashboard's panel (``b2b.panels``) and the
periodic task (``b2b.tasks``, every ``B2B_HEALTH_INTERVAL_SECONDS``).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from b2b.enums import HealthSeverity
from b2b.exceptions import B2BError, ContractNotFound
from b2b.models import ReportedHealthFinding
from b2b.services.codes.reconcile import request_code_reconciliation
from b2b.services.health_checks import CHECKS, Finding, HealthData, Repair
from b2b.services.invitations.sweep import requeue_invitation_work
from courses.exceptions import CoursesError
from courses.services.edx_copy import requeue_run_copies
from courses.services.enrollments import requeue_enrollment_pushes

log = logging.getLogger(__name__)

# The registered name of the periodic task (b2b/tasks.py), as Celery beat's schedule names it.
HEALTH_TASK = "b2b.health_report"

_SEVERITY_ORDER = {HealthSeverity.ERROR: 0, HealthSeverity.WARNING: 1}


@dataclass(frozen=True)
class HealthReport:
    findings: list[Finding]
    contracts_checked: int
    whole_system: bool  # every contract was checked (no --contract)
    openedx_pending_before: datetime

    @property
    def healthy(self) -> bool:
        return not self.findings


def _sort_key(finding: Finding):
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
    contract_ids = None if contract_id is None else [contract_id]
    data = HealthData(
        contract_ids=contract_ids,
        now=now,
        codes_pending_before=now - timedelta(seconds=settings.B2B_HEALTH_CODES_PENDING_SECONDS),
        openedx_pending_before=now - timedelta(seconds=settings.B2B_HEALTH_OPENEDX_PENDING_SECONDS),
    )
    if contract_id is not None and contract_id not in data.contracts:
        raise ContractNotFound(f"No contract with id {contract_id}")
    findings = [finding for check in CHECKS.values() for finding in check(data)]
    return HealthReport(
        findings=sorted(findings, key=_sort_key),
        contracts_checked=len(data.contracts),
        whole_system=contract_id is None,
        openedx_pending_before=data.openedx_pending_before,
    )


@dataclass
class RepairOutcome:
    repaired: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, what was done)
    left: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, why it was left)


def _reconcile(target, report: HealthReport) -> str:
    with transaction.atomic():
        request_code_reconciliation(target)
    return Repair.RECONCILE.value


def _copy(target, report: HealthReport) -> str:
    requeue_run_copies(courseware_id=target)
    return Repair.COPY.value


def _push(target, report: HealthReport) -> str:
    count = requeue_enrollment_pushes(
        run_ids=[target], pending_before=report.openedx_pending_before
    )
    return f"queued {count} Open edX enrollment(s) again"


def _requeue_invitations(target, report: HealthReport) -> str:
    requeued = requeue_invitation_work(contract_id=target)
    return (
        f"queued {len(requeued.job_ids)} invite job(s) and {len(requeued.email_ids)} "
        "invitation e-mail(s) again"
    )


_REPAIRS: dict[Repair, Callable[..., str]] = {
    Repair.RECONCILE: _reconcile,
    Repair.COPY: _copy,
    Repair.PUSH: _push,
    Repair.INVITATIONS: _requeue_invitations,
}


def repair_findings(report: HealthReport) -> RepairOutcome:
    """Repair what is safe: each repair is done once per target, even when several findings
    call for it. Findings without a repair, and those whose repair could not be done (Open edX
    not configured, a contract deleted meanwhile), are left for a person."""
    outcome = RepairOutcome()
    done: dict[tuple[Repair, object], str | Exception] = {}
    for finding in report.findings:
        if finding.repair is None:
            outcome.left.append((finding, "needs a person"))
            continue
        key = (finding.repair, finding.target)
        if key not in done:
            try:
                done[key] = _REPAIRS[finding.repair](finding.target, report)
            except (B2BError, CoursesError) as exc:
                done[key] = exc
        result = done[key]
        if isinstance(result, Exception):
            outcome.left.append((finding, f"could not repair: {result}"))
        else:
            outcome.repaired.append((finding, result))
    return outcome


def contract_label(finding: Finding) -> str:
    if finding.contract_id is None:
        return "-"
    return f"{finding.contract_id} {finding.contract_name}".strip()


def _mail_body(new: list[Finding], report: HealthReport) -> str:
    lines = [
        f"The health report found {len(new)} new problem(s) "
        f"({len(report.findings)} in all, on {report.contracts_checked} contracts).",
        "",
    ]
    for finding in new:
        lines += [
            f"[{finding.severity}] contract {contract_label(finding)}: {finding.what}",
            f"    how to fix: {finding.fix}",
        ]
    lines += ["", "Run `manage.py b2b_health` for the whole report; `--fix` repairs what is safe."]
    return "\n".join(lines)


def _remember(report: HealthReport, now: datetime) -> list[Finding]:
    """Record the report's findings; returns those not recorded before."""
    by_fingerprint = {finding.fingerprint: finding for finding in report.findings}
    with transaction.atomic():
        known = set(
            ReportedHealthFinding.objects.select_for_update()
            .filter(fingerprint__in=by_fingerprint)
            .values_list("fingerprint", flat=True)
        )
        ReportedHealthFinding.objects.filter(fingerprint__in=known).update(last_seen=now)
        new = [f for fingerprint, f in by_fingerprint.items() if fingerprint not in known]
        ReportedHealthFinding.objects.bulk_create(
            [
                ReportedHealthFinding(
                    fingerprint=f.fingerprint,
                    check_name=f.check,
                    contract_id=f.contract_id,
                    what=f.what,
                    last_seen=now,
                )
                for f in new
            ],
            ignore_conflicts=True,
        )
        if report.whole_system:  # forget what is gone, so that it is reported if it comes back
            ReportedHealthFinding.objects.exclude(fingerprint__in=by_fingerprint).delete()
    return new


def notify_staff(report: HealthReport, *, now: datetime | None = None) -> list[Finding]:
    """Log the report's findings and mail staff those never reported before; returns them.

    The mail goes before the findings are recorded: if it cannot be sent, the error goes on and
    the next run tries again with the same findings.
    """
    now = now or timezone.now()
    for finding in report.findings:
        log.warning(
            "Health: %s %s, contract %s: %s",
            finding.severity,
            finding.check,
            contract_label(finding),
            finding.what,
        )
    known = set(
        ReportedHealthFinding.objects.filter(
            fingerprint__in=[f.fingerprint for f in report.findings]
        ).values_list("fingerprint", flat=True)
    )
    new = [f for f in report.findings if f.fingerprint not in known]
    if new and settings.B2B_STAFF_ALERT_EMAILS:
        send_mail(
            subject=f"[{settings.WAGTAIL_SITE_NAME}] health report: {len(new)} new problem(s)",
            message=_mail_body(new, report),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=list(settings.B2B_STAFF_ALERT_EMAILS),
        )
    recorded = _remember(report, now)
    log.info(
        "Health report: %s finding(s), %s new, %s newly recorded",
        len(report.findings),
        len(new),
        len(recorded),
    )
    return new
