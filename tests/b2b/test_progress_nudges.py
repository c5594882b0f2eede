"""Nudges to learners who need attention, through a real SMTP server on loopback: selected or
all, the cooldown, forged and foreign ids, unmapped learners, contracts showing aggregates only,
the address limits, SMTP failures and the sweep, the automatic daily nudges, and two managers
nudging at once (real parallel connections on PostgreSQL)."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from b2b.enums import EmailState, ProgressVisibility
from b2b.exceptions import NothingToNudge, ProgressHidden
from b2b.models import AttentionCutoffs, Invitation, InvitationEmail, LearnerProgress, ProgressNudge
from b2b.services.progress.nudges import (
    NudgeOutcome,
    nudge_flagged_learners,
    nudge_learners,
    requeue_nudges,
)
from b2b.tasks import nudge_flagged_learners_task, send_progress_nudges_task
from tests.support import factories as f
from tests.support.progress import done_row, not_started_row, progress_row, stalled_row
from tests.support.races import race
from tests.support.smtp_server import body_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(site_tree):
    org = f.OrganizationPageFactory(title="Acme University")
    return f.ContractPageFactory(parent=org, title="Data Science 2026")


@pytest.fixture
def run(contract):
    return f.CourseRunFactory(b2b_contract=contract, title="Statistics for Analysts")


@pytest.fixture
def manager():
    return f.UserFactory(name="Maria Manager", email="maria@acme.example.com")


def _cutoffs():
    return AttentionCutoffs.at(timezone.now())


def _nudge(contract, capture, *, by=None, ids=None):
    with capture(execute=True):
        return nudge_learners(contract, by=by, cutoffs=_cutoffs(), progress_ids=ids)


def test_a_selected_learner_gets_one_nudge_naming_the_course_progress_link_and_sender(
    contract, run, manager, smtp_server, django_capture_on_commit_callbacks, settings
):
    ann = f.UserFactory(name="Ann Learner", email="ann@example.com")
    bob = f.UserFactory(name="Bob Learner", email="bob@example.com")
    row = not_started_row(contract, run, "ann", user=ann)
    other = stalled_row(contract, run, "bob", user=bob)
    outcome = _nudge(contract, django_capture_on_commit_callbacks, by=manager, ids=[row.pk])
    assert outcome == NudgeOutcome(queued=1, cooling_down=0, not_flagged=0)
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Statistics for Analysts is waiting for you"
    for part in (body_text(message, "plain"), body_text(message, "html")):
        assert "Hello Ann Learner" in part
        assert "Statistics for Analysts" in part and "Data Science 2026" in part
        assert "You have not started the course yet." in part
        assert f"{settings.SITE_BASE_URL}/dashboard/" in part
        assert "Maria Manager, who manages your learning at Acme University" in part
    (nudge,) = ProgressNudge.objects.all()
    assert (nudge.progress_id, nudge.contract_id, nudge.to, nudge.sent_by_id) == (
        row.pk,
        contract.pk,
        "ann@example.com",
        manager.pk,
    )
    assert (nudge.state, nudge.attempts, nudge.last_error) == (EmailState.SENT, 1, "")
    row.refresh_from_db()
    other.refresh_from_db()
    assert row.last_nudged_on is not None
    assert other.last_nudged_on is None


def test_a_stalled_learner_reads_their_grade_and_the_last_change(
    contract, run, smtp_server, django_capture_on_commit_callbacks
):
    bob = f.UserFactory(name="Bob", email="bob@example.com")
    row = stalled_row(contract, run, "bob", user=bob)
    _nudge(contract, django_capture_on_commit_callbacks)
    (message,) = smtp_server.wait_for(1)
    assert message["Subject"] == "Keep going with Statistics for Analysts"
    changed = timezone.localtime(row.changed_on)
    text = body_text(message, "plain")
    assert (
        f"Your grade so far is 40%, and we have not seen any new progress since "
        f"{changed:%B} {changed.day}." in text
    )
    assert "This reminder was sent by Acme University." in text  # automatic: no manager


def test_nudging_all_reaches_every_flagged_learner_with_an_address(
    contract, run, smtp_server, django_capture_on_commit_callbacks
):
    users = [f.UserFactory(email=f"l{i}@example.com") for i in range(4)]
    not_started_row(contract, run, "l0", user=users[0])
    stalled_row(contract, run, "l1", user=users[1])
    progress_row(contract, run, "l2", user=users[2])  # enrolled yesterday: not flagged
    done_row(contract, run, "l3", user=users[3])
    not_started_row(contract, run, "ghost")  # an Open edX learner we could not map
    outcome = _nudge(contract, django_capture_on_commit_callbacks)
    assert outcome == NudgeOutcome(queued=2, cooling_down=0, not_flagged=0, no_address=1)
    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["l0@example.com", "l1@example.com"]
    assert LearnerProgress.objects.filter(last_nudged_on__isnull=False).count() == 2
    assert not LearnerProgress.objects.get(edx_username="ghost").last_nudged_on


def test_a_learner_is_nudged_once_per_cooldown(
    contract, run, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.B2B_PROGRESS_NUDGE_COOLDOWN_DAYS = 7
    row = not_started_row(contract, run, "ann", user=f.UserFactory(email="ann@example.com"))
    assert _nudge(contract, django_capture_on_commit_callbacks, ids=[row.pk]).queued == 1
    again = _nudge(contract, django_capture_on_commit_callbacks, ids=[row.pk])
    assert again == NudgeOutcome(queued=0, cooling_down=1, not_flagged=0)
    assert _nudge(contract, django_capture_on_commit_callbacks).cooling_down == 1
    # eight days later the cooldown is over
    LearnerProgress.objects.filter(pk=row.pk).update(
        last_nudged_on=timezone.now() - timedelta(days=8)
    )
    assert _nudge(contract, django_capture_on_commit_callbacks, ids=[row.pk]).queued == 1
    assert len(smtp_server.wait_for(2)) == 2
    assert ProgressNudge.objects.count() == 2


def test_forged_and_foreign_ids_are_never_e_mailed(
    contract, run, smtp_server, django_capture_on_commit_callbacks
):
    other_contract = f.ContractPageFactory()
    other_run = f.CourseRunFactory(b2b_contract=other_contract)
    foreign = not_started_row(
        other_contract, other_run, "eve", user=f.UserFactory(email="eve@example.com")
    )
    mine = not_started_row(contract, run, "ann", user=f.UserFactory(email="ann@example.com"))
    outcome = _nudge(
        contract, django_capture_on_commit_callbacks, ids=[foreign.pk, 999_999, mine.pk, mine.pk]
    )
    assert outcome == NudgeOutcome(queued=1, cooling_down=0, not_flagged=2)
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "ann@example.com"
    foreign.refresh_from_db()
    assert foreign.last_nudged_on is None
    assert not ProgressNudge.objects.filter(progress=foreign).exists()


def test_a_selected_learner_who_does_not_need_attention_is_not_nudged(
    contract, run, smtp_server, django_capture_on_commit_callbacks
):
    fine = progress_row(contract, run, "ann", user=f.UserFactory())
    passed = done_row(contract, run, "bob", user=f.UserFactory())
    outcome = _nudge(contract, django_capture_on_commit_callbacks, ids=[fine.pk, passed.pk])
    assert outcome == NudgeOutcome(queued=0, cooling_down=0, not_flagged=2)
    assert ProgressNudge.objects.count() == 0
    assert smtp_server.messages == []


def test_an_unmapped_learner_has_no_address_here(
    contract, run, smtp_server, django_capture_on_commit_callbacks
):
    ghost = not_started_row(contract, run, "ghost")
    outcome = _nudge(contract, django_capture_on_commit_callbacks, ids=[ghost.pk])
    assert outcome == NudgeOutcome(queued=0, cooling_down=0, not_flagged=0, no_address=1)
    assert ProgressNudge.objects.count() == 0
    assert smtp_server.messages == []


def test_a_contract_showing_aggregates_only_and_an_empty_selection_are_refused(
    contract, run, smtp_server
):
    row = not_started_row(contract, run, "ann", user=f.UserFactory())
    with pytest.raises(NothingToNudge, match=r"^Select at least one learner to nudge\.$"):
        nudge_learners(contract, by=None, cutoffs=_cutoffs(), progress_ids=[])
    contract.progress_visibility = ProgressVisibility.AGGREGATES
    contract.save()
    with pytest.raises(ProgressHidden) as refused:
        nudge_learners(contract, by=None, cutoffs=_cutoffs(), progress_ids=[row.pk])
    assert "\n" not in str(refused.value)
    with pytest.raises(ProgressHidden):
        nudge_learners(contract, by=None, cutoffs=_cutoffs())
    row.refresh_from_db()
    assert row.last_nudged_on is None
    assert ProgressNudge.objects.count() == 0


def test_an_address_that_had_its_share_of_e_mail_today_is_left(
    contract, run, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT = 2
    ann = f.UserFactory(email="ann@example.com")
    invitation = Invitation.objects.create(contract=contract, email="ann@example.com")
    InvitationEmail.objects.create(invitation=invitation, kind="invitation", to="ann@example.com")
    second_run = f.CourseRunFactory(b2b_contract=contract)
    third_run = f.CourseRunFactory(b2b_contract=contract)
    rows = [not_started_row(contract, r, "ann", user=ann) for r in (run, second_run, third_run)]
    outcome = _nudge(contract, django_capture_on_commit_callbacks)
    # one invitation e-mail today, one nudge: the contract's share of two
    assert outcome == NudgeOutcome(queued=1, cooling_down=0, not_flagged=0, at_limit=2)
    assert len(smtp_server.wait_for(1)) == 1
    nudged = LearnerProgress.objects.filter(
        pk__in=[r.pk for r in rows], last_nudged_on__isnull=False
    )
    assert nudged.count() == 1


def test_a_transient_refusal_is_retried_then_sent(
    contract, run, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refuse_next(1, "451 4.3.0 Mailbox busy, try later")
    not_started_row(contract, run, "ann", user=f.UserFactory(email="ann@example.com"))
    _nudge(contract, django_capture_on_commit_callbacks)
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "ann@example.com"
    (nudge,) = ProgressNudge.objects.all()
    assert (nudge.state, nudge.attempts, nudge.last_error) == (EmailState.SENT, 2, "")


def test_a_permanent_refusal_is_recorded_and_never_sent_again(
    contract, run, smtp_server, django_capture_on_commit_callbacks, settings
):
    smtp_server.refuse_next(1, "550 5.1.1 No such mailbox")
    not_started_row(contract, run, "ann", user=f.UserFactory(email="ann@example.com"))
    _nudge(contract, django_capture_on_commit_callbacks)
    (nudge,) = ProgressNudge.objects.all()
    assert (nudge.state, nudge.attempts, nudge.transient_failure) == (EmailState.FAILED, 1, False)
    assert nudge.last_error == "550 5.1.1 No such mailbox"
    settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_nudges(now=timezone.now() + timedelta(hours=1)) == []
    assert smtp_server.messages == []


def test_a_nudge_out_of_retries_is_sent_by_the_sweep_once_the_server_answers(
    contract, run, settings, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.B2B_EMAIL_MAX_ATTEMPTS = 2
    not_started_row(contract, run, "ann", user=f.UserFactory(email="ann@example.com"))
    _nudge(contract, django_capture_on_commit_callbacks)
    (nudge,) = ProgressNudge.objects.all()
    assert (nudge.state, nudge.attempts, nudge.transient_failure) == (EmailState.FAILED, 2, True)
    assert "Connection refused" in nudge.last_error and "\n" not in nudge.last_error
    from tests.support.smtp_server import SmtpServer

    server = SmtpServer().start()
    try:
        settings.EMAIL_PORT = server.port
        later = timezone.now() + timedelta(seconds=settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS)
        with django_capture_on_commit_callbacks(execute=True):
            assert requeue_nudges(now=later) == [nudge.pk]
        (message,) = server.wait_for(1)
        assert message["To"] == "ann@example.com"
    finally:
        server.stop()
    nudge.refresh_from_db()
    assert (nudge.state, nudge.attempts, nudge.transient_failure) == (EmailState.SENT, 3, False)
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_nudges(now=later + timedelta(hours=1)) == []


def test_running_the_send_task_twice_sends_one_e_mail(
    contract, run, smtp_server, django_capture_on_commit_callbacks
):
    not_started_row(contract, run, "ann", user=f.UserFactory(email="ann@example.com"))
    _nudge(contract, django_capture_on_commit_callbacks)
    (nudge,) = ProgressNudge.objects.all()
    assert send_progress_nudges_task(nudge.pk) == {nudge.pk: "sent"}
    assert len(smtp_server.wait_for(1)) == 1
    assert len(smtp_server.messages) == 1


def test_automatic_nudges_reach_only_the_contracts_that_asked_for_them(
    site_tree, smtp_server, django_capture_on_commit_callbacks
):
    def contract_with_flagged(title, **terms):
        contract = f.ContractPageFactory(title=title, **terms)
        run = f.CourseRunFactory(b2b_contract=contract)
        user = f.UserFactory(email=f"{title.lower()}@example.com")
        not_started_row(contract, run, title.lower(), user=user)
        return contract

    on = contract_with_flagged("On", auto_nudges=True)
    contract_with_flagged("Off", auto_nudges=False)
    contract_with_flagged("Hidden", auto_nudges=True, progress_visibility="aggregates")
    contract_with_flagged("Inactive", auto_nudges=True, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert nudge_flagged_learners_task() == {on.pk: 1}
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "on@example.com"
    assert "This reminder was sent by" in body_text(message, "plain")
    (nudge,) = ProgressNudge.objects.all()
    assert nudge.sent_by_id is None
    # the next day: the learner is cooling down
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = nudge_flagged_learners(now=timezone.now() + timedelta(days=1))
    assert outcomes == {on.pk: NudgeOutcome(queued=0, cooling_down=1, not_flagged=0)}
    assert len(smtp_server.messages) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_managers_nudging_at_once_send_one_e_mail_per_learner(site_tree, smtp_server):
    org = f.OrganizationPageFactory()
    contract = f.ContractPageFactory(parent=org)
    run = f.CourseRunFactory(b2b_contract=contract)
    rows = [
        not_started_row(contract, run, f"l{i}", user=f.UserFactory(email=f"l{i}@example.com"))
        for i in range(5)
    ]
    managers = [f.UserFactory(), f.UserFactory()]
    cutoffs = _cutoffs()
    ids = [row.pk for row in rows]
    outcomes = race(
        [
            lambda by=by: nudge_learners(contract, by=by, cutoffs=cutoffs, progress_ids=ids)
            for by in managers
        ]
    )
    assert all(isinstance(o, NudgeOutcome) for o in outcomes), outcomes
    assert sum(o.queued for o in outcomes) == 5
    assert sum(o.cooling_down for o in outcomes) == 5
    messages = smtp_server.wait_for(5)
    assert sorted(m["To"] for m in messages) == [f"l{i}@example.com" for i in range(5)]
    assert ProgressNudge.objects.count() == 5
    assert LearnerProgress.objects.filter(last_nudged_on__isnull=True).count() == 0
