"""Utilization alerts: a capped contract filling up, or a contract's end coming near.

A threshold is ``seats-<percent>`` (the contract's learners reached that share of its cap,
``B2B_ALERT_SEAT_PERCENTS``) or ``end-<days>`` (an active contract ends within that many days,
``B2B_ALERT_DAYS_BEFORE_END``). Each is sent at most once per contract: whoever sees it crossed
first inserts its ``ContractAlert`` row, which the database lets exist once, and queues the
e-mail after commit; the sending task locks the row and sends only if it was not sent yet.

Two paths claim: ``attach_learner`` (under the contract's lock, so its count is exact) when a
join crosses a seat threshold, and the periodic check (``check_contract_alerts``), which claims
every threshold passed, dates included, and queues again what is claimed but still unsent (the
SMTP server was down, or the queued task was lost).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from b2b.models import ContractAlert, ContractPage
from b2b.selectors.managers import manager_emails
from config.queueing import queue_after_commit

log = logging.getLogger(__name__)

SEND_TASK = "b2b.send_contract_alert"
CHECK_TASK = "b2b.check_contract_alerts"


def seat_thresholds(*, used: int, cap: int | None) -> list[str]:
    """The seat thresholds ``used`` learners reach under ``cap`` (none without a cap)."""
    if not cap:
        return []
    percents = sorted(set(settings.B2B_ALERT_SEAT_PERCENTS))
    return [f"seats-{p}" for p in percents if used * 100 >= p * cap]


def end_thresholds(*, end: date | None, today: date) -> list[str]:
    """The end-date thresholds reached on ``today`` by a contract ending on ``end`` (none once
    it has ended, or without an end date)."""
    if end is None or end < today:
        return []
    left = (end - today).days
    leads = sorted(set(settings.B2B_ALERT_DAYS_BEFORE_END), reverse=True)
    return [f"end-{days}" for days in leads if left <= days]


def alert_recipients(contract: ContractPage) -> list[list[str]]:
    """Who is told about ``contract``'s alerts, as the groups that get one message each: the
    staff addresses (``B2B_STAFF_ALERT_EMAILS``), then the organization's managers (so that
    neither group sees the other's addresses). Empty groups are left out."""
    staff = list(dict.fromkeys(settings.B2B_STAFF_ALERT_EMAILS))
    managers = manager_emails(contract.organization.pk)
    return [group for group in (staff, managers) if group]


def _claim(contract_id: int, threshold: str) -> bool:
    """Insert the claim of ``threshold``; False when another transaction has it (the insert
    waits for that one to commit or roll back)."""
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the caller's work intact
            alert = ContractAlert.objects.create(contract_id=contract_id, threshold=threshold)
    except IntegrityError:
        return False
    queue_after_commit(SEND_TASK, alert.pk)
    return True


def claim_alerts(*, contract_id: int, thresholds: list[str]) -> list[str]:
    """Claim the ``thresholds`` of the contract not claimed yet and queue their e-mails after
    commit; returns the ones claimed now."""
    if not thresholds:
        return []
    taken = set(
        ContractAlert.objects.filter(contract_id=contract_id, threshold__in=thresholds).values_list(
            "threshold", flat=True
        )
    )
    return [t for t in thresholds if t not in taken and _claim(contract_id, t)]


@dataclass(frozen=True)
class AlertCheck:
    claimed: list[tuple[int, str]]  # (contract id, threshold) claimed by this check
    requeued: list[int]  # alerts claimed earlier and still unsent, queued again


@transaction.atomic
def check_contract_alerts(*, today: date | None = None) -> AlertCheck:
    """Claim every threshold passed by an active contract that nobody claimed yet, queue their
    e-mails, and queue again the alerts still unsent (a constant number of queries, plus one
    insert per new alert)."""
    today = today or timezone.localdate()
    requeued = list(ContractAlert.objects.filter(sent_on__isnull=True).values_list("pk", flat=True))
    for alert_id in requeued:
        queue_after_commit(SEND_TASK, alert_id)
    wanted: dict[int, list[str]] = {}
    capped = (
        ContractPage.objects.active()
        .filter(max_learners__isnull=False)
        .annotate(used=Count("memberships"))
        .values_list("pk", "used", "max_learners")
    )
    for pk, used, cap in capped:
        wanted.setdefault(pk, []).extend(seat_thresholds(used=used, cap=cap))
    horizon = today + timedelta(days=max(settings.B2B_ALERT_DAYS_BEFORE_END, default=0))
    ending = (
        ContractPage.objects.active()
        .filter(contract_end__gte=today, contract_end__lte=horizon)
        .values_list("pk", "contract_end")
    )
    for pk, end in ending:
        wanted.setdefault(pk, []).extend(end_thresholds(end=end, today=today))
    taken = set(
        ContractAlert.objects.filter(contract_id__in=list(wanted)).values_list(
            "contract_id", "threshold"
        )
    )
    claimed = [
        (pk, threshold)
        for pk, thresholds in sorted(wanted.items())
        for threshold in thresholds
        if (pk, threshold) not in taken and _claim(pk, threshold)
    ]
    return AlertCheck(claimed=claimed, requeued=requeued)


def alert_message(contract: ContractPage, threshold: str) -> tuple[str, str]:
    """The subject and the plain-text body of ``threshold``'s e-mail about ``contract``."""
    kind, _, number = threshold.partition("-")
    who = f"Contract {contract.title!r} (id {contract.pk}) of {contract.organization.title}"
    used = contract.memberships.count()
    cap = "no cap" if contract.max_learners is None else f"a cap of {contract.max_learners}"
    seats = f"Seats used: {used} ({cap})."
    ends = f"Ends on: {contract.contract_end.isoformat() if contract.contract_end else 'no end'}."
    if kind == "seats":
        subject = f"{who}: {number}% of its seats are used"
        advice = "Raise the cap (b2b_contract modify --max-learners) if more learners should join."
    else:
        subject = f"{who} ends in {number} days or less"
        advice = "Renew it (b2b_contract renew) if its learners should keep their access."
    return subject, "\n".join([subject + ".", "", seats, ends, "", advice, ""])


@transaction.atomic
def send_alert(*, alert_id: int) -> bool:
    """Send the alert's e-mail unless it went out already; True when sent now.

    The alert row stays locked while sending, so two tasks for one alert send it once. A
    failure to send is kept in ``last_error`` and raised for the task to retry; the periodic
    check queues it again later.
    """
    alert = ContractAlert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None or alert.sent_on is not None:
        return False
    contract = ContractPage.objects.get(pk=alert.contract_id)
    groups = alert_recipients(contract)
    recipients = [address for group in groups for address in group]
    if recipients:
        subject, body = alert_message(contract, alert.threshold)
        for group in groups:
            send_mail(subject, body, None, group)
    else:
        log.info("No recipients for the %s alert of contract %s", alert.threshold, contract.pk)
    alert.sent_on = timezone.now()
    alert.recipients = ", ".join(recipients)
    alert.last_error = ""
    alert.save(update_fields=["sent_on", "recipients", "last_error"])
    return bool(recipients)


def note_send_failure(*, alert_id: int, error: str) -> None:
    """Keep the last failure to send the alert, on one line."""
    ContractAlert.objects.filter(pk=alert_id).update(last_error=error.splitlines()[0][:500])
