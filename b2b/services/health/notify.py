"""``notify_staff``, the periodic report's part: it logs the findings and mails
``B2B_STAFF_ALERT_EMAILS`` the ones it has not reported before (``ReportedHealthFinding``
remembers them by fingerprint, and forgets those gone, so a problem that comes back is mailed
again).
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from b2b.models import ReportedHealthFinding
from b2b.selectors import health as selectors_health
from b2b.services.health.report import HealthReport, contract_label
from config.health_registry import Finding

# The operator guide names the package's logger (docs/operations.md, "Periodic report").
log = logging.getLogger(__package__)

# The registered name of the periodic task (b2b/tasks.py), as Celery beat's schedule names it.
HEALTH_TASK = "b2b.health_report"


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
    known = selectors_health.reported_fingerprints(f.fingerprint for f in report.findings)
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
