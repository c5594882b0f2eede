"""manage.py b2b_health: what is wrong in the system, one row per finding, with how to fix it.

Exit status: 0 healthy, 1 with findings (with --fix: findings left for a person), 2 when the
report could not run (a database that cannot be reached, an unknown contract, bad arguments).
"""

from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError

from b2b.exceptions import ContractNotFound
from b2b.management.rendering import Column, render
from b2b.services.health.notify import notify_staff
from b2b.services.health.repair import RepairOutcome, repair_findings
from b2b.services.health.report import HealthReport, contract_label, health_report
from config.commands import DATABASE_GONE, OneLineErrorsMixin, database_error, object_id
from config.health_registry import Finding

# The exit status of a report that could not run.
COULD_NOT_RUN = 2


@dataclass(frozen=True)
class Row:
    finding: Finding
    repaired: str | None = None  # with --fix: what was done
    left: str | None = None  # with --fix: why it was left for a person


COLUMNS = [
    Column("severity", "Severity", lambda row: str(row.finding.severity)),
    Column("contract_id", "Contract id", lambda row: row.finding.contract_id),
    Column("contract", "Contract", lambda row: row.finding.contract_name or None),
    Column("check", "Check", lambda row: row.finding.check),
    Column("what", "What", lambda row: row.finding.what),
    Column("fix", "How to fix", lambda row: row.finding.fix),
    Column("fingerprint", "Fingerprint", lambda row: row.finding.fingerprint),
]
TABLE_COLUMNS = [COLUMNS[0], Column("contract", "Contract", lambda r: contract_label(r.finding))]
TABLE_COLUMNS += COLUMNS[3:6]
FIX_COLUMNS = [
    Column("repaired", "Repaired", lambda row: row.repaired),
    Column("left_for_a_person", "Left for a person", lambda row: row.left),
]


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Check the system's invariants and print one row per finding (severity, contract, what, "
        "how to fix). Exit status 0 when healthy, 1 with findings, 2 when it could not run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contract", type=object_id, metavar="ID", help="Only this contract.")
        parser.add_argument("--format", choices=("table", "json"), default="table")
        parser.add_argument(
            "--fix",
            action="store_true",
            help="Repair what is safe (request code reconciliations, queue Open edX copies and "
            "enrollment pushes again) and say what is left for a person.",
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help="Also do what the periodic report does: log the findings and e-mail "
            "B2B_STAFF_ALERT_EMAILS the ones not reported before.",
        )

    def handle(self, *args, contract, format, fix, notify, **options):
        try:
            report, outcome = self._run(contract_id=contract, fix=fix, notify=notify)
        except ContractNotFound as exc:
            raise CommandError(str(exc), returncode=COULD_NOT_RUN) from exc
        except DATABASE_GONE as exc:
            raise CommandError(str(database_error(exc)), returncode=COULD_NOT_RUN) from exc
        self._write(report, outcome, fmt=format)
        remaining = outcome.left if outcome is not None else report.findings
        if remaining:
            raise SystemExit(1)

    def _run(
        self, *, contract_id: int | None, fix: bool, notify: bool
    ) -> tuple[HealthReport, RepairOutcome | None]:
        report = health_report(contract_id=contract_id)
        if notify:
            notify_staff(report)
        return report, repair_findings(report) if fix else None

    def _write(self, report: HealthReport, outcome: RepairOutcome | None, *, fmt: str) -> None:
        if outcome is None:
            rows = [Row(finding) for finding in report.findings]
        else:
            rows = [Row(f, repaired=done) for f, done in outcome.repaired]
            rows += [Row(f, left=why) for f, why in outcome.left]
        if fmt == "json":
            render(self.stdout, rows, COLUMNS + (FIX_COLUMNS if outcome else []), fmt="json")
            return
        scope = f"{report.contracts_checked} contract(s)"
        if report.healthy:
            self.stdout.write(f"Healthy: no findings ({scope} checked).")
            return
        columns = TABLE_COLUMNS + (FIX_COLUMNS if outcome else [])
        render(self.stdout, rows, columns, fmt="table", title=f"Health report ({scope})")
        errors = sum(1 for f in report.findings if f.severity == "error")
        summary = f"{len(report.findings)} finding(s), {errors} error(s)."
        if outcome is not None:
            summary += f" Repaired {len(outcome.repaired)}; {len(outcome.left)} left for a person."
        self.stdout.write(summary)
