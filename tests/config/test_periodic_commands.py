"""Every periodic task of Celery beat's schedule has a command for cron (the embedded default
runs no beat), named on its line in docs/operations.md; and the new commands do what their
tasks do."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.db.models import F
from django.utils import timezone

from b2b.enums import EmailState, InvitationEmailKind
from b2b.models import ContractCodeStatus, Invitation, InvitationEmail
from b2b.services.invitations.invite import invite
from tests.b2b.helpers import contract_with_codes, stall_invitation_work

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
ROW = re.compile(
    r"^\| `(?P<task>[\w.]+)` \|.*\| `(?P<cron>[^`]*manage\.py (?P<command>\w+)[^`]*)` \|$"
)


def _cron_lines() -> dict[str, tuple[str, str]]:
    found = {}
    for line in DOCS.read_text().splitlines():
        match = ROW.match(line.strip())
        if match:
            found[match["task"]] = (match["command"], match["cron"])
    return found


def test_every_beat_task_has_a_documented_cron_line_with_a_command_that_exists():
    documented = _cron_lines()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks <= set(documented), f"no cron line for {sorted(tasks - set(documented))}"
    commands = get_commands()
    for task in tasks:
        command, cron = documented[task]
        assert command in commands, f"{task}: no command {command!r}"
        assert len(cron.split()) >= 6, f"{task}: {cron!r} is not a cron line"


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_reminders_command_stores_redemptions_and_sends_due_reminders(site_tree, settings):
    settings.B2B_INVITATION_REMINDER_DAYS = 1
    settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS = 3600
    contract, _ = contract_with_codes(max_learners=5)
    due = invite(contract=contract, email="ann@example.com", by=None)
    invite(contract=contract, email="bob@example.com", by=None)
    two_days_ago = timezone.now() - timedelta(days=2)
    Invitation.objects.filter(pk=due.pk).update(
        created_on=two_days_ago, last_emailed_on=two_days_ago
    )
    assert _run("b2b_invitation_reminders") == (
        "0 invitation(s) redeemed since the last run, 1 reminded\n"
    )
    assert list(
        InvitationEmail.objects.filter(kind=InvitationEmailKind.REMINDER).values_list(
            "to", flat=True
        )
    ) == ["ann@example.com"]
    assert _run("b2b_invitation_reminders") == (
        "0 invitation(s) redeemed since the last run, 0 reminded\n"
    )


@pytest.mark.django_db
def test_the_invitation_work_command_runs_the_sweep(site_tree, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS = 600
    contract, _ = contract_with_codes(max_learners=5)
    _jobs, (email,) = stall_invitation_work(contract, jobs=0, emails=1, minutes=60)
    assert _run("b2b_requeue_invitation_work") == (
        "Queued again 0 invite job(s) and 1 invitation e-mail(s)\n"
    )
    email.refresh_from_db()
    assert email.state == EmailState.QUEUED  # sent after commit: the test's transaction
    assert _run("b2b_requeue_invitation_work") == (
        "Queued again 0 invite job(s) and 0 invitation e-mail(s)\n"
    )


@pytest.mark.django_db
def test_the_codes_command_queues_pending_reconciliations_again(site_tree, settings):
    settings.B2B_CODES_REQUEUE_AFTER_SECONDS = 60
    contract, _ = contract_with_codes(max_learners=5)
    assert _run("b2b_requeue_codes") == "No code reconciliation waiting\n"
    ContractCodeStatus.objects.filter(contract=contract).update(
        requested_version=F("reconciled_version") + 1,
        pending_since=timezone.now() - timedelta(hours=1),
    )
    assert _run("b2b_requeue_codes") == (
        f"Queued the codes of 1 contract(s) again: {contract.pk}\n"
    )


@pytest.mark.django_db
def test_the_edx_copies_command_with_nothing_waiting(site_tree):
    assert _run("requeue_stuck_edx_copies") == "No Open edX copy waiting\n"
