"""Utilization alerts: each threshold of a contract e-mailed to staff once, whoever sees it
first (a join on PostgreSQL's parallel connections, or the periodic check), read back from a
real SMTP server on loopback."""

import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from b2b.exceptions import MembershipRefused
from b2b.models import ContractAlert
from b2b.services.alerts import check_contract_alerts
from b2b.services.memberships import attach_learner, detach_learner
from b2b.tasks import check_contract_alerts_task
from config.env import get_int_list
from tests.support import factories as f
from tests.support.smtp_server import body_text

STAFF = ["ops@example.com", "sales@example.com"]
# E-mails are sent after commit: the tests commit, as the site does.
TRANSACTIONAL = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def staff_addresses(settings):
    settings.B2B_STAFF_ALERT_EMAILS = STAFF
    settings.B2B_ALERT_SEAT_PERCENTS = [75, 90, 100]
    settings.B2B_ALERT_DAYS_BEFORE_END = [30, 7]
    return settings


def _subjects(messages):
    return sorted(message["Subject"] for message in messages)


def _no_more_mail(smtp_server, count, wait=1.0):
    time.sleep(wait)
    assert len(smtp_server.messages) == count


@pytest.mark.postgres
@TRANSACTIONAL
def test_each_seat_threshold_is_sent_once_under_concurrent_joins(
    site_tree, smtp_server, staff_addresses
):
    organization = f.OrganizationPageFactory(title="UniversityX", org_key="UNIX")
    cap = 10
    contract = f.ContractPageFactory(parent=organization, title="Spring", max_learners=cap)
    users = [f.UserFactory() for _ in range(cap + 4)]
    racers = len(users) + 2  # and two periodic checks at the same time
    barrier = threading.Barrier(racers)
    outcomes = []

    def join(user):
        try:
            barrier.wait(timeout=30)
            attach_learner(user=user, contract_id=contract.pk, source="code")
            outcomes.append("joined")
        except MembershipRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    def check():
        try:
            barrier.wait(timeout=30)
            for _ in range(3):
                check_contract_alerts()
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(user,)) for user in users]
    threads += [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["joined"] * cap + ["refused"] * 4

    messages = smtp_server.wait_for(3, timeout=30)
    who = f"Contract 'Spring' (id {contract.pk}) of UniversityX"
    assert _subjects(messages) == [
        f"{who}: 100% of its seats are used",
        f"{who}: 75% of its seats are used",
        f"{who}: 90% of its seats are used",
    ]
    assert all(sorted(m["To"].split(", ")) == STAFF for m in messages)
    check_contract_alerts_task()
    _no_more_mail(smtp_server, 3)
    alerts = ContractAlert.objects.filter(contract=contract).order_by("threshold")
    assert [(a.threshold, a.recipients, a.sent_on is not None) for a in alerts] == [
        ("seats-100", ", ".join(STAFF), True),
        ("seats-75", ", ".join(STAFF), True),
        ("seats-90", ", ".join(STAFF), True),
    ]


@TRANSACTIONAL
def test_a_join_sends_when_it_crosses_and_never_again(site_tree, smtp_server, staff_addresses):
    contract = f.ContractPageFactory(title="Small", max_learners=4, contract_end=date(2099, 1, 1))
    learners = [f.UserFactory() for _ in range(4)]
    for learner in learners[:2]:
        attach_learner(user=learner, contract_id=contract.pk, source="staff")
    _no_more_mail(smtp_server, 0, wait=0.3)

    attach_learner(user=learners[2], contract_id=contract.pk, source="staff")  # 3 of 4: 75%
    [first] = smtp_server.wait_for(1)
    assert first["Subject"] == (
        f"Contract 'Small' (id {contract.pk}) of {contract.organization.title}: "
        "75% of its seats are used"
    )
    assert body_text(first).replace("\r\n", "\n") == (
        f"{first['Subject']}.\n\nSeats used: 3 (a cap of 4).\nEnds on: 2099-01-01.\n\n"
        "Raise the cap (b2b_contract modify --max-learners) if more learners should join.\n"
    )
    attach_learner(user=learners[3], contract_id=contract.pk, source="staff")  # 90% and 100%
    assert len(smtp_server.wait_for(3)) == 3

    detach_learner(user=learners[3], contract_id=contract.pk)
    attach_learner(user=learners[3], contract_id=contract.pk, source="staff")
    _no_more_mail(smtp_server, 3, wait=0.5)


@TRANSACTIONAL
def test_the_periodic_task_sends_the_date_alerts_once(site_tree, smtp_server, staff_addresses):
    today = timezone.localdate()
    soon = f.ContractPageFactory(title="Soon", contract_end=today + timedelta(days=20))
    very_soon = f.ContractPageFactory(title="Very soon", contract_end=today + timedelta(days=7))
    later = f.ContractPageFactory(title="Later", contract_end=today + timedelta(days=31))
    f.ContractPageFactory(title="Inactive", active=False, contract_end=today + timedelta(days=3))
    f.ContractPageFactory(title="Ended", contract_end=today - timedelta(days=1))
    f.ContractPageFactory(title="Open-ended", contract_end=None)

    result = check_contract_alerts_task()
    assert sorted(result["claimed"]) == sorted(
        [f"{soon.pk}:end-30", f"{very_soon.pk}:end-30", f"{very_soon.pk}:end-7"]
    )
    messages = smtp_server.wait_for(3)
    assert _subjects(messages) == sorted(
        [
            f"Contract 'Soon' (id {soon.pk}) of {soon.organization.title} ends in 30 days or less",
            f"Contract 'Very soon' (id {very_soon.pk}) of {very_soon.organization.title} "
            "ends in 30 days or less",
            f"Contract 'Very soon' (id {very_soon.pk}) of {very_soon.organization.title} "
            "ends in 7 days or less",
        ]
    )
    assert "Renew it (b2b_contract renew)" in body_text(messages[0])

    assert check_contract_alerts_task() == {"claimed": [], "requeued": []}
    _no_more_mail(smtp_server, 3)
    # Thirteen days later "Soon" is 7 days from its end and "Later" 18: those alerts, once.
    result = check_contract_alerts(today=today + timedelta(days=13))
    assert result.claimed == [(soon.pk, "end-7"), (later.pk, "end-30")]
    assert len(smtp_server.wait_for(5)) == 5
    assert check_contract_alerts(today=today + timedelta(days=13)).claimed == []
    _no_more_mail(smtp_server, 5)


@TRANSACTIONAL
def test_a_refused_e_mail_is_kept_and_sent_by_the_next_check(
    site_tree, smtp_server, staff_addresses, caplog
):
    contract = f.ContractPageFactory(contract_end=timezone.localdate() + timedelta(days=2))
    smtp_server.refuse_next(2, "451 4.3.0 Try again later")

    check_contract_alerts_task()
    alerts = ContractAlert.objects.filter(contract=contract).order_by("threshold")
    assert [(a.threshold, a.sent_on, a.last_error) for a in alerts] == [
        ("end-30", None, "SMTPDataError: (451, b'4.3.0 Try again later')"),
        ("end-7", None, "SMTPDataError: (451, b'4.3.0 Try again later')"),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.name == "b2b.tasks"]
    assert len(warnings) == 2
    assert all(w.startswith("Could not send alert ") for w in warnings)
    assert not any(r.exc_info for r in caplog.records)

    result = check_contract_alerts_task()
    assert (result["claimed"], sorted(result["requeued"])) == ([], sorted(a.pk for a in alerts))
    assert len(smtp_server.wait_for(2)) == 2
    assert not ContractAlert.objects.filter(sent_on__isnull=True).exists()
    assert not ContractAlert.objects.exclude(last_error="").exists()


@TRANSACTIONAL
def test_without_recipients_the_alert_is_marked_and_nothing_is_sent(
    site_tree, smtp_server, staff_addresses
):
    staff_addresses.B2B_STAFF_ALERT_EMAILS = []
    f.ContractPageFactory(contract_end=timezone.localdate())
    check_contract_alerts_task()
    assert list(ContractAlert.objects.values_list("threshold", "recipients")) == [
        ("end-30", ""),
        ("end-7", ""),
    ]
    assert not ContractAlert.objects.filter(sent_on__isnull=True).exists()
    _no_more_mail(smtp_server, 0, wait=0.3)


def test_thresholds_are_read_from_the_environment(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("B2B_ALERT_SEAT_PERCENTS", "50, 80")
    assert get_int_list("B2B_ALERT_SEAT_PERCENTS", [75]) == [50, 80]
    monkeypatch.setenv("B2B_ALERT_SEAT_PERCENTS", "50,lots")
    with pytest.raises(ImproperlyConfigured) as raised:
        get_int_list("B2B_ALERT_SEAT_PERCENTS", [75])
    assert str(raised.value) == (
        "B2B_ALERT_SEAT_PERCENTS must be whole numbers separated by commas, not '50,lots'"
    )


@TRANSACTIONAL
def test_the_command_runs_the_check_on_demand(site_tree, smtp_server, staff_addresses):
    from tests.support.commands import call_command_output

    contract = f.ContractPageFactory(contract_end=timezone.localdate() + timedelta(days=10))
    assert call_command_output("b2b_alerts") == f"Contract {contract.pk}: end-30 alert queued\n"
    assert len(smtp_server.wait_for(1)) == 1
    assert call_command_output("b2b_alerts") == "No alerts due\n"


@pytest.mark.postgres
@TRANSACTIONAL
def test_the_organization_managers_get_the_alert_too(site_tree, smtp_server, staff_addresses):
    """Managers get the same alert in a message of their own: no group sees the other's
    addresses."""
    from b2b.services.invitations.managers import grant_manager

    contract = f.ContractPageFactory(title="Team", max_learners=4, contract_end=date(2099, 1, 1))
    boss = f.UserFactory(email="lead@customer.example")
    grant_manager(user=boss, organization=contract.organization)
    grant_manager(
        user=f.UserFactory(email="deputy@customer.example"), organization=contract.organization
    )
    grant_manager(
        user=f.UserFactory(email="other@else.example"), organization=f.OrganizationPageFactory()
    )
    for learner in [f.UserFactory() for _ in range(3)]:  # 3 of 4: 75%
        attach_learner(user=learner, contract_id=contract.pk, source="staff")
    messages = smtp_server.wait_for(2)
    _no_more_mail(smtp_server, 2, wait=0.5)
    assert sorted(sorted(m["To"].split(", ")) for m in messages) == [
        ["deputy@customer.example", "lead@customer.example"],
        STAFF,
    ]
    assert {m["Subject"] for m in messages} == {
        f"Contract 'Team' (id {contract.pk}) of {contract.organization.title}: "
        "75% of its seats are used"
    }
    alert = ContractAlert.objects.get(contract=contract, threshold="seats-75")
    assert alert.recipients == ", ".join(
        [*STAFF, "deputy@customer.example", "lead@customer.example"]
    )
