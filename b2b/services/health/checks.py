"""b2b's own health checks: each reads the contracts in scope with a constant number of queries
(through ``HealthData`` and the selectors) and returns its findings.

What other apps own is checked by them (``config.health_registry``: ecommerce's orders and
codes, courses' Open edX copies and enrollment pushes); b2b's checks are about its rules: the
cap, the codes and products a contract's rules call for, the runs' dates, the code
reconciliations, the membership a fulfilled order gives, the invitation work.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings

from b2b.enums import EmailState, ProgressSyncState
from b2b.models import ContractPage
from b2b.selectors import health as selectors_health
from b2b.selectors import progress_sync as selectors_progress
from b2b.services.codes.rules import product_code_rule
from b2b.services.courseware import contract_run_schedule
from b2b.services.health.data import RECONCILE, REQUEUE_INVITATIONS, HealthData
from b2b.services.invitations.sweep import failed_emails, stalled_work
from config.health_registry import Finding, HealthSeverity, moment_text
from config.money import format_money
from courses.selectors import ContractRunState
from ecommerce.services.contract_codes import reads as ecommerce_codes

ERROR, WARNING = HealthSeverity.ERROR, HealthSeverity.WARNING


def _reconcile(contract_id: int) -> dict:
    return {"repair": RECONCILE, "target": contract_id}


SYNC = "b2b_contract sync-codes {id}"


def over_cap(data: HealthData) -> list[Finding]:
    findings = []
    for contract_id, count in selectors_health.capped_member_counts(data.contract_ids):
        cap = data.contracts[contract_id].max_learners
        if cap is not None and count > cap:
            findings.append(
                Finding(
                    "over-cap",
                    ERROR,
                    contract_id,
                    "contract",
                    f"{count} learners, over the cap of {cap}",
                    f"raise the cap (b2b_contract modify {contract_id} --max-learners {count}) "
                    "or detach learners in the user admin",
                )
            )
    return findings


def _runs_by_contract(data: HealthData) -> dict[int, list[ContractRunState]]:
    runs: dict[int, list[ContractRunState]] = defaultdict(list)
    for run in data.runs:
        runs[run.contract_id].append(run)
    return runs


def _code_problems(contract: ContractPage, tally: ecommerce_codes.CodeTally) -> list[str]:
    rule = product_code_rule(contract, redeemed=tally.redeemed)
    # An uncapped contract's personal invitation codes (one-time) are not the pool's: they are
    # left out of its number and type; like every code of the contract, they sell at its price.
    apart = tally.personal if rule.pool_only else 0
    usable = tally.usable - apart
    problems = []
    if rule.usable is not None and usable != rule.usable:
        problems.append(f"{usable} usable codes, the rules say {rule.usable}")
    mispriced = sum(n for price, n in tally.usable_by_price.items() if price != rule.price)
    if mispriced:
        problems.append(
            f"{mispriced} usable codes not at the contract's price {format_money(rule.price)}"
        )
    if rule.redemption_type is not None:
        # (personal codes are one-time, never of the unlimited type of an uncapped pool)
        mistyped = usable - tally.usable_by_type.get(rule.redemption_type, 0)
        if mistyped:
            problems.append(f"{mistyped} usable codes not {rule.redemption_type.label.lower()}")
    return problems


def codes_differ(data: HealthData) -> list[Finding]:
    """Per product of a contract whose codes are not waiting for a reconciliation (a pending
    one is the next check's business): the usable codes against the code rules' owner."""
    tallies = ecommerce_codes.code_tallies(data.contract_ids)
    findings = []
    for contract_id, runs in _runs_by_contract(data).items():
        contract = data.contracts[contract_id]
        if data.codes_pending(contract_id):
            continue
        for run in runs:
            product = data.products.get(run.id)
            if product is None:
                continue
            tally = tallies.get((contract_id, product.id)) or ecommerce_codes.CodeTally(
                contract_id=contract_id, product_id=product.id
            )
            problems = _code_problems(contract, tally)
            if problems:
                findings.append(
                    Finding(
                        "codes-differ",
                        WARNING,
                        contract_id,
                        f"product {product.id}",
                        f"product {product.id} ({run.courseware_id}): {'; '.join(problems)}",
                        f"reconcile the codes ({SYNC.format(id=contract_id)})",
                        **_reconcile(contract_id),
                    )
                )
    return findings


def product_prices(data: HealthData) -> list[Finding]:
    findings = []
    for run in data.runs:
        contract = data.contracts[run.contract_id]
        product = data.products.get(run.id)
        if product is None or product.price == contract.price:
            continue
        if data.codes_pending(run.contract_id):
            continue
        findings.append(
            Finding(
                "product-price",
                WARNING,
                run.contract_id,
                f"product {product.id}",
                f"product {product.id} ({run.courseware_id}) costs "
                f"{format_money(product.price)}, the "
                f"contract's price is {format_money(contract.price)}",
                f"reconcile the codes, which re-prices the products "
                f"({SYNC.format(id=run.contract_id)})",
                **_reconcile(run.contract_id),
            )
        )
    return findings


def runs_without_product(data: HealthData) -> list[Finding]:
    return [
        Finding(
            "run-without-product",
            ERROR,
            run.contract_id,
            run.courseware_id,
            f"run {run.courseware_id} has no active product: its learners cannot enroll",
            "remove the course from the contract and add it again (b2b_contract courseware), "
            "or reactivate the run's product in the Django admin",
        )
        for run in data.runs
        if run.id not in data.products
    ]


_DATE_FIELDS = {
    "start_date": "start",
    "enrollment_start": "enrollment start",
    "end_date": "end",
    "enrollment_end": "enrollment end",
}


def _dates_differ(contract: ContractPage, run: ContractRunState) -> list[str]:
    expected = contract_run_schedule(contract)
    compared = []
    if contract.contract_start:
        compared += ["start_date", "enrollment_start"]
    if contract.contract_end:
        compared += ["end_date", "enrollment_end"]
    return [
        f"{_DATE_FIELDS[name]} {moment_text(getattr(run, name))} "
        f"(contract: {moment_text(expected[name])})"
        for name in compared
        if getattr(run, name) != expected[name]
    ]


def run_dates(data: HealthData) -> list[Finding]:
    findings = []
    for run in data.runs:
        contract = data.contracts[run.contract_id]
        differences = _dates_differ(contract, run)
        if differences:
            findings.append(
                Finding(
                    "run-dates",
                    WARNING,
                    run.contract_id,
                    run.courseware_id,
                    f"run {run.courseware_id}: {'; '.join(differences)}",
                    "set the run's dates to the contract's in the Django admin, then queue its "
                    f"Open edX copy again (requeue_edx_copies --run {run.courseware_id})",
                )
            )
    return findings


def code_reconciliations(data: HealthData) -> list[Finding]:
    """Reconciliations pending for too long, and those whose last attempt failed."""
    findings = []
    for contract_id, status in sorted(data.statuses.items()):
        since = status.pending_since
        if status.is_pending and (since is None or since <= data.codes_pending_before):
            findings.append(
                Finding(
                    "codes-pending",
                    WARNING,
                    contract_id,
                    "codes",
                    f"codes pending reconciliation since {moment_text(since)}",
                    "check that a Celery worker is running, then queue the reconciliation "
                    f"again ({SYNC.format(id=contract_id)})",
                    **_reconcile(contract_id),
                )
            )
        if status.last_error:
            findings.append(
                Finding(
                    "reconciliation-failed",
                    ERROR,
                    contract_id,
                    "codes",
                    f"the last code reconciliation failed: {status.last_error}",
                    f"fix the cause, then reconcile again ({SYNC.format(id=contract_id)})",
                    **_reconcile(contract_id),
                )
            )
    return findings


def _incomplete_orders(data: HealthData) -> dict[int, dict]:
    lines = selectors_health.lines_without_membership_or_enrollment(
        ecommerce_codes.fulfilled_lines(data.contract_ids)
    )
    orders: dict[int, dict] = {}
    for line in lines:
        order = orders.setdefault(
            line["order_id"], {"contract_id": line["contract_id"], "runs": [], "contracts": set()}
        )
        if not line["enrolled"]:
            order["runs"].append(line["run_id"])
        if line["contract_id"] is not None and not line["member"]:
            order["contracts"].add(line["contract_id"])
    return orders


def fulfilled_orders(data: HealthData) -> list[Finding]:
    """Fulfilled orders whose learner is not a member of the contract of a run they bought, or
    not enrolled in a run they bought: the membership is b2b's to give, so the check is b2b's,
    over ecommerce's fulfilled lines."""
    findings = []
    for order_id, order in _incomplete_orders(data).items():
        missing = [f"not a member of contract {c}" for c in sorted(order["contracts"])]
        if order["runs"]:
            missing.append(f"not enrolled in run id(s) {', '.join(map(str, order['runs']))}")
        findings.append(
            Finding(
                "fulfilled-incomplete",
                ERROR,
                order["contract_id"],
                f"order {order_id}",
                f"order {order_id} is fulfilled but its learner is {' and '.join(missing)}",
                "attach the learner in the user admin's contracts and enroll them, or refund "
                "the order",
            )
        )
    return findings


def _ago(data: HealthData, moment: datetime) -> str:
    minutes = max(int((data.now - moment).total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def invitation_work(data: HealthData) -> list[Finding]:
    """Managers' invite jobs and invitation e-mails queued and not picked up for longer than
    B2B_INVITATION_REQUEUE_AFTER_SECONDS (the broker refused them, or a worker died)."""
    findings = []
    for work in stalled_work(contract_ids=data.contract_ids, now=data.now):
        counts = []
        if work.jobs:
            counts.append(f"{work.jobs} invite job(s)")
        if work.emails:
            counts.append(f"{work.emails} invitation e-mail(s)")
        findings.append(
            Finding(
                "invitation-work-stalled",
                WARNING,
                work.contract_id,
                "invitations",
                f"{' and '.join(counts)} queued and not picked up, the oldest for "
                f"{_ago(data, work.oldest)}",
                "check that the broker and a Celery worker are running; the sweep queues them "
                "again every few minutes (or b2b_health --fix now)",
                repair=REQUEUE_INVITATIONS,
                target=work.contract_id,
            )
        )
    return findings


def invitation_emails_failed(data: HealthData) -> list[Finding]:
    """Invitation, reminder and withdrawal e-mails that failed and still matter (one query)."""
    findings = []
    for failed in failed_emails(contract_ids=data.contract_ids):
        parts = []
        if failed.permanent:
            parts.append(f"{failed.permanent} refused for good")
        if failed.transient:
            parts.append(
                f"{failed.transient} not delivered after every retry (sent again once the SMTP "
                "server answers)"
            )
        findings.append(
            Finding(
                "invitation-email-failed",
                WARNING,
                failed.contract_id,
                "invitations",
                f"{failed.permanent + failed.transient} invitation e-mail(s) failed: "
                f"{', '.join(parts)}",
                "see each invitation's e-mail error on the manager pages; check the SMTP server "
                "(EMAIL_HOST), revoke invitations to addresses that do not exist, or remind",
            )
        )
    return findings


PROGRESS_SYNC = "b2b_progress sync --run {key}"
# A digest is weekly: one not sent for longer than this has stopped going out.
DIGEST_SILENT_AFTER = timedelta(days=8)


def progress_sync(data: HealthData) -> list[Finding]:
    """Contract runs whose last progress sync failed, and live runs whose progress is older
    than B2B_PROGRESS_STALE_HOURS (or never synced, started longer ago than that)."""
    stale_before = data.now - timedelta(hours=settings.B2B_PROGRESS_STALE_HOURS)
    findings = []
    for run in selectors_progress.runs_sync_health(data.contract_ids, data.now):
        key = run.courseware_id
        command = PROGRESS_SYNC.format(key=key)
        if run.state == ProgressSyncState.FAILED:
            findings.append(
                Finding(
                    "progress-sync-failed",
                    WARNING,
                    run.contract_id,
                    key,
                    f"the last progress sync of run {key} failed ({run.failures} time(s) in a "
                    f"row): {run.last_error}",
                    f"fix the cause (Open edX's settings, its service account), then sync "
                    f"again ({command}); it resumes where it stopped",
                )
            )
        if not run.live:
            continue
        if run.last_success_on is not None and run.last_success_on < stale_before:
            what = f"progress of run {key} last synced {moment_text(run.last_success_on)}"
        elif (
            run.last_success_on is None
            and run.start_date is not None
            and run.start_date < stale_before
        ):
            what = f"progress of run {key} never synced (started {moment_text(run.start_date)})"
        else:
            continue
        findings.append(
            Finding(
                "progress-stale",
                WARNING,
                run.contract_id,
                key,
                what,
                "check that Celery beat and a worker are running (the nightly "
                f"b2b.sync_live_progress), or sync it now ({command})",
            )
        )
    return findings


def progress_digests(data: HealthData) -> list[Finding]:
    """Managers who want the weekly digest and whose latest one failed, or whose latest sent
    one is older than DIGEST_SILENT_AFTER (a whole-system report only: digests belong to a
    manager, not to a contract)."""
    if data.contract_ids is not None:
        return []
    silent_before = data.now - DIGEST_SILENT_AFTER
    findings = []
    for manager in selectors_health.opted_in_digests():
        to = f"{manager['email']} ({manager['organization_title']})"
        subject = f"digest of {manager['email']}"
        if manager["latest_state"] == EmailState.FAILED:
            error = manager["latest_error"] or "no error recorded"
            what = f"the latest progress digest to {to} failed: {error}"
        elif manager["last_sent_on"] is not None and manager["last_sent_on"] < silent_before:
            since = moment_text(manager["last_sent_on"])
            what = f"no progress digest sent to {to} since {since}"
        else:
            continue
        findings.append(
            Finding(
                "progress-digest-stopped",
                WARNING,
                None,
                subject,
                what,
                "check the SMTP server (EMAIL_HOST) and that Celery beat and a worker are "
                "running; the next week's digest is sent once they are",
            )
        )
    return findings


# b2b's checks, by name, in the order the report runs them (before the contributed ones).
CHECKS: dict[str, Callable[[HealthData], list[Finding]]] = {
    "over-cap": over_cap,
    "codes-differ": codes_differ,
    "product-price": product_prices,
    "run-without-product": runs_without_product,
    "run-dates": run_dates,
    "code-reconciliations": code_reconciliations,  # codes-pending, reconciliation-failed
    "fulfilled-incomplete": fulfilled_orders,
    "invitation-work-stalled": invitation_work,
    "invitation-email-failed": invitation_emails_failed,
    "progress-sync": progress_sync,  # progress-sync-failed, progress-stale
    "progress-digest-stopped": progress_digests,
}
