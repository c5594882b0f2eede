"""The health report's checks: each reads the whole system (or the contracts in scope) with a
constant number of queries and returns its findings.

``HealthData`` reads what several checks share once (the contracts, their code statuses, runs
and products), lazily, so a check run alone reads only what it needs. A check never writes;
what can be repaired is said on the finding (``Repair``) and done by ``b2b.services.health``.
"""

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cached_property

from django.db.models import Count, Exists, OuterRef, Q

from b2b.enums import HealthSeverity
from b2b.models import ContractCodeStatus, ContractMembership, ContractPage
from b2b.services.codes import product_code_rule
from b2b.services.courseware import contract_run_schedule
from b2b.services.invitation_sweep import failed_emails, stalled_work
from config.money import format_money
from courses import selectors as courses_selectors
from courses.enums import EdxCopyState
from courses.selectors import ContractRunState
from ecommerce import selectors as ecommerce_selectors
from ecommerce.services import contract_codes as ecommerce_codes
from ecommerce.services.contract_codes import RunProduct

ERROR, WARNING = HealthSeverity.ERROR, HealthSeverity.WARNING


class Repair(Enum):
    """What ``--fix`` does for a finding; findings without one are left for a person."""

    RECONCILE = "requested the code reconciliation"
    COPY = "queued the Open edX copy again"
    PUSH = "queued the Open edX enrollments again"
    INVITATIONS = "queued the invite jobs and invitation e-mails again"


@dataclass(frozen=True)
class Finding:
    check: str  # the check's name (``CHECKS``)
    severity: HealthSeverity
    contract_id: int | None
    subject: str  # what in the contract: "contract", a product, a run key, an order
    what: str
    fix: str  # how to fix it
    repair: Repair | None = None
    target: int | str | None = None  # what the repair takes: contract id, run key, run id
    contract_name: str = ""

    @property
    def fingerprint(self) -> str:
        """The finding's identity across reports: the same problem keeps it while its numbers
        change (the periodic report mails staff about new fingerprints only)."""
        key = f"{self.check}|{self.contract_id or ''}|{self.subject}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


class HealthData:
    """What the checks read, for the contracts in scope (``contract_ids`` None: all)."""

    def __init__(
        self,
        *,
        contract_ids: list[int] | None,
        now: datetime,
        codes_pending_before: datetime,
        openedx_pending_before: datetime,
    ):
        self.contract_ids = contract_ids
        self.now = now
        self.codes_pending_before = codes_pending_before
        self.openedx_pending_before = openedx_pending_before

    @cached_property
    def contracts(self) -> dict[int, ContractPage]:
        contracts = ContractPage.objects.order_by("pk")
        if self.contract_ids is not None:
            contracts = contracts.filter(pk__in=self.contract_ids)
        return {contract.pk: contract for contract in contracts}

    @cached_property
    def statuses(self) -> dict[int, ContractCodeStatus]:
        statuses = ContractCodeStatus.objects.all()
        if self.contract_ids is not None:
            statuses = statuses.filter(pk__in=self.contract_ids)
        return {status.contract_id: status for status in statuses}

    def codes_pending(self, contract_id: int) -> bool:
        status = self.statuses.get(contract_id)
        return status is not None and status.is_pending

    @cached_property
    def runs(self) -> list[ContractRunState]:
        return courses_selectors.contract_run_states(self.contract_ids)

    @cached_property
    def products(self) -> dict[int, RunProduct]:
        """Run id -> its active product."""
        return ecommerce_codes.active_products_by_run([run.id for run in self.runs])


def _finding(data: HealthData, check: str, severity, contract_id, subject, what, fix, **repair):
    contract = data.contracts.get(contract_id) if contract_id is not None else None
    name = contract.title if contract is not None else ""
    return Finding(check, severity, contract_id, subject, what, fix, contract_name=name, **repair)


def _reconcile(contract_id: int) -> dict:
    return {"repair": Repair.RECONCILE, "target": contract_id}


SYNC = "b2b_contract sync-codes {id}"


def over_cap(data: HealthData) -> list[Finding]:
    members = ContractMembership.objects.filter(contract__max_learners__isnull=False)
    if data.contract_ids is not None:
        members = members.filter(contract_id__in=data.contract_ids)
    counts = members.values_list("contract_id").annotate(n=Count("pk")).order_by()
    findings = []
    for contract_id, count in counts:
        cap = data.contracts[contract_id].max_learners
        if cap is not None and count > cap:
            findings.append(
                _finding(
                    data,
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


def codes_redeemed_twice(data: HealthData) -> list[Finding]:
    by_contract = defaultdict(list)
    for code in ecommerce_selectors.one_time_codes_redeemed_twice(data.contract_ids):
        by_contract[code.contract_id].append(code)
    findings = []
    for contract_id, codes in by_contract.items():
        first = codes[0]
        findings.append(
            _finding(
                data,
                "code-redeemed-twice",
                ERROR,
                contract_id,
                "codes",
                f"{len(codes)} one-time code(s) redeemed more than once "
                f"(e.g. {first.code}: {first.times} times)",
                "look at the code's redemptions and orders in the Django admin; refund or "
                "detach the extra learners",
            )
        )
    return findings


def _runs_by_contract(data: HealthData) -> dict[int, list[ContractRunState]]:
    runs: dict[int, list[ContractRunState]] = defaultdict(list)
    for run in data.runs:
        runs[run.contract_id].append(run)
    return runs


def _code_problems(contract: ContractPage, tally) -> list[str]:
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
    tallies = ecommerce_selectors.code_tallies(data.contract_ids)
    findings = []
    for contract_id, runs in _runs_by_contract(data).items():
        contract = data.contracts[contract_id]
        if data.codes_pending(contract_id):
            continue
        for run in runs:
            product = data.products.get(run.id)
            if product is None:
                continue
            tally = tallies.get((contract_id, product.id)) or ecommerce_selectors.CodeTally(
                contract_id=contract_id, product_id=product.id
            )
            problems = _code_problems(contract, tally)
            if problems:
                findings.append(
                    _finding(
                        data,
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
            _finding(
                data,
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
        _finding(
            data,
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
        f"{_DATE_FIELDS[name]} {_when(getattr(run, name))} (contract: {_when(expected[name])})"
        for name in compared
        if getattr(run, name) != expected[name]
    ]


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="minutes") if moment else "none"


def run_dates(data: HealthData) -> list[Finding]:
    findings = []
    for run in data.runs:
        contract = data.contracts[run.contract_id]
        differences = _dates_differ(contract, run)
        if differences:
            findings.append(
                _finding(
                    data,
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
                _finding(
                    data,
                    "codes-pending",
                    WARNING,
                    contract_id,
                    "codes",
                    f"codes pending reconciliation since {_when(since)}",
                    "check that a Celery worker is running, then queue the reconciliation "
                    f"again ({SYNC.format(id=contract_id)})",
                    **_reconcile(contract_id),
                )
            )
        if status.last_error:
            findings.append(
                _finding(
                    data,
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


def openedx_copies(data: HealthData) -> list[Finding]:
    findings = []
    for run in data.runs:
        if run.edx_copy_state == EdxCopyState.FAILED:
            check, severity, what = "copy-failed", ERROR, f"failed: {run.edx_copy_error}"
        elif run.edx_copy_state == EdxCopyState.PENDING and (
            run.edx_copy_updated_on is None
            or run.edx_copy_updated_on <= data.openedx_pending_before
        ):
            check, severity, what = (
                "copy-pending",
                WARNING,
                f"pending since {_when(run.edx_copy_updated_on)}",
            )
        else:
            continue
        findings.append(
            _finding(
                data,
                check,
                severity,
                run.contract_id,
                run.courseware_id,
                f"Open edX copy of {run.courseware_id} {what}",
                f"queue the copy again (requeue_edx_copies --run {run.courseware_id})",
                repair=Repair.COPY,
                target=run.courseware_id,
            )
        )
    return findings


def enrollments_not_pushed(data: HealthData) -> list[Finding]:
    findings = []
    for row in courses_selectors.unpushed_enrollments(
        contract_ids=data.contract_ids, pending_before=data.openedx_pending_before
    ):
        counts = []
        if row.failed:
            error = f" ({row.last_error})" if row.last_error else ""
            counts.append(f"{row.failed} failed{error}")
        if row.pending:
            counts.append(f"{row.pending} pending since {_when(row.oldest)}")
        findings.append(
            _finding(
                data,
                "enrollments-not-pushed",
                ERROR if row.failed else WARNING,
                row.contract_id,
                row.courseware_id,
                f"{row.failed + row.pending} enrollment(s) in {row.courseware_id} not in Open "
                f"edX: {', '.join(counts)}",
                "check Open edX, then push them again (b2b_health --fix)",
                repair=Repair.PUSH,
                target=row.run_id,
            )
        )
    return findings


def paid_orders(data: HealthData) -> list[Finding]:
    return [
        _finding(
            data,
            "paid-not-fulfilled",
            ERROR,
            order.contract_id,
            f"order {order.order_id}",
            f"order {order.order_id} was paid {format_money(order.paid)} but is {order.state}"
            + (f": {order.reason}" if order.reason else ""),
            "enroll the learner by hand, or refund the payment and mark the order refunded "
            "in the Django admin",
        )
        for order in ecommerce_selectors.paid_orders_not_fulfilled(data.contract_ids)
    ]


def _incomplete_orders(data: HealthData) -> dict[int, dict]:
    member = ContractMembership.objects.filter(
        user_id=OuterRef("purchaser_id"), contract_id=OuterRef("contract_id")
    )
    lines = (
        ecommerce_selectors.fulfilled_lines(data.contract_ids)
        .annotate(member=Exists(member))
        .filter(Q(enrolled=False) | Q(contract_id__isnull=False, member=False))
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
    not enrolled in a run they bought."""
    findings = []
    for order_id, order in _incomplete_orders(data).items():
        missing = [f"not a member of contract {c}" for c in sorted(order["contracts"])]
        if order["runs"]:
            missing.append(f"not enrolled in run id(s) {', '.join(map(str, order['runs']))}")
        findings.append(
            _finding(
                data,
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
            _finding(
                data,
                "invitation-work-stalled",
                WARNING,
                work.contract_id,
                "invitations",
                f"{' and '.join(counts)} queued and not picked up, the oldest for "
                f"{_ago(data, work.oldest)}",
                "check that the broker and a Celery worker are running; the sweep queues them "
                "again every few minutes (or b2b_health --fix now)",
                repair=Repair.INVITATIONS,
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
            _finding(
                data,
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


# Every check, by name, in the order the report runs them.
CHECKS: dict[str, Callable[[HealthData], list[Finding]]] = {
    "over-cap": over_cap,
    "code-redeemed-twice": codes_redeemed_twice,
    "codes-differ": codes_differ,
    "product-price": product_prices,
    "run-without-product": runs_without_product,
    "run-dates": run_dates,
    "code-reconciliations": code_reconciliations,  # codes-pending, reconciliation-failed
    "openedx-copies": openedx_copies,  # copy-failed, copy-pending
    "enrollments-not-pushed": enrollments_not_pushed,
    "paid-not-fulfilled": paid_orders,
    "fulfilled-incomplete": fulfilled_orders,
    "invitation-work-stalled": invitation_work,
    "invitation-email-failed": invitation_emails_failed,
}
