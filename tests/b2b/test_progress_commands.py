"""manage.py b2b_progress nudge | digests | requeue: what cron runs where there is no Celery beat
(docs/operations.md) does what the beat tasks do."""

from datetime import timedelta

import pytest
from django.utils import timezone

from b2b.enums import EmailState
from b2b.models import OrganizationManager, ProgressDigest, ProgressNudge
from tests.support import factories as f
from tests.support.progress import not_started_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(site_tree):
    return f.OrganizationPageFactory(title="Acme University")


def test_nudge_reminds_the_flagged_learners_of_contracts_with_automatic_nudges(
    org, run_command, smtp_server, django_capture_on_commit_callbacks
):
    for title, auto in (("On", True), ("Off", False)):
        contract = f.ContractPageFactory(parent=org, title=title, auto_nudges=auto)
        run = f.CourseRunFactory(b2b_contract=contract)
        not_started_row(contract, run, user=f.UserFactory(email=f"{title.lower()}@example.com"))

    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_command("b2b_progress", "nudge")

    assert out == "1 reminder(s) queued in 1 contract(s).\n"
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "on@example.com"
    assert ProgressNudge.objects.get().state == EmailState.SENT


def test_digests_claims_the_weeks_digests_once(
    org, run_command, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.B2B_PROGRESS_DIGEST_HOUR = 0  # due from Monday 00:00: whatever today is, it is due
    OrganizationManager.objects.create(
        user=f.UserFactory(email="lead@acme.example"), organization=org, wants_digest=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = run_command("b2b_progress", "digests")
        second, _ = run_command("b2b_progress", "digests")

    assert (first, second) == (
        "1 digest(s) claimed and queued.\n",
        "0 digest(s) claimed and queued.\n",
    )
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "lead@acme.example"
    assert ProgressDigest.objects.get().state == EmailState.SENT


def test_requeue_sends_again_what_nothing_sent(
    org, run_command, smtp_server, django_capture_on_commit_callbacks
):
    contract = f.ContractPageFactory(parent=org, title="Stalled")
    run = f.CourseRunFactory(b2b_contract=contract)
    row = not_started_row(contract, run, user=f.UserFactory(email="left@example.com"))
    nudge = ProgressNudge.objects.create(progress=row, contract=contract, to="left@example.com")
    # queued an hour ago and never sent: the worker was down
    ProgressNudge.objects.filter(pk=nudge.pk).update(
        queued_on=timezone.now() - timedelta(hours=1),
        updated_on=timezone.now() - timedelta(hours=1),
    )

    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_command("b2b_progress", "requeue")

    assert out == "1 reminder(s) and 0 digest(s) queued again.\n"
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "left@example.com"
    nudge.refresh_from_db()
    assert nudge.state == EmailState.SENT
