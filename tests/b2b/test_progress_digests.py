"""The managers' weekly progress digest, through a real SMTP server on loopback: its content
(the funnel, what changed since the previous digest, the link), claimed once per manager and
week, only on Monday from its hour, nothing for managers who opted out or lost the role,
failures recorded and sent again by the sweep, and the privacy of contracts showing
aggregates only."""

import socket
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from b2b.enums import EmailState, ProgressVisibility
from b2b.models import ContractMembership, OrganizationManager, ProgressDigest
from b2b.services.progress.digests import claim_weekly_digests, requeue_digests, week_of
from b2b.tasks import send_progress_digest_task
from tests.support import factories as f
from tests.support.progress import done_row, not_started_row, progress_row, stalled_row
from tests.support.smtp_server import SmtpServer, body_text

pytestmark = pytest.mark.django_db


def _this_monday(hour: int = 8) -> datetime:
    return timezone.make_aware(datetime.combine(week_of(timezone.now()), time(hour, 0)))


@pytest.fixture
def org(site_tree):
    return f.OrganizationPageFactory(title="Acme University")


@pytest.fixture
def manager(org):
    user = f.UserFactory(name="Maria Manager", email="maria@acme.example.com")
    return OrganizationManager.objects.create(user=user, organization=org, wants_digest=True)


def _members(contract, count, *, days_ago=0):
    members = [f.ContractMembershipFactory(contract=contract) for _ in range(count)]
    ContractMembership.objects.filter(pk__in=[m.pk for m in members]).update(
        created_on=timezone.now() - timedelta(days=days_ago)
    )
    return members


def _claim(capture, **kwargs):
    with capture(execute=True):
        return claim_weekly_digests(now=kwargs.get("now", _this_monday()))


def test_the_digest_holds_each_contracts_funnel_changes_since_the_last_one_and_link(
    org, manager, smtp_server, django_capture_on_commit_callbacks, settings
):
    contract = f.ContractPageFactory(parent=org, title="Data Science 2026", max_learners=10)
    run = f.CourseRunFactory(b2b_contract=contract)
    old = _members(contract, 2, days_ago=30)
    new = _members(contract, 2, days_ago=1)
    now = timezone.now()
    done_row(contract, run, "a", user=old[0].user, first_passed_on=now - timedelta(days=2))
    # passed before the last digest, certified since
    done_row(
        contract,
        run,
        "b",
        user=old[1].user,
        first_passed_on=now - timedelta(days=20),
        cert_created_on=now - timedelta(days=1),
    )
    not_started_row(contract, run, "c", user=new[0].user, days_over=1)  # flagged a day ago
    stalled_row(contract, run, "d", user=new[1].user, days_over=20)  # flagged 20 days ago
    f.ContractPageFactory(parent=org, title="Analytics Basics")  # no progress yet
    last_sent = now - timedelta(days=7)
    ProgressDigest.objects.create(
        manager=manager,
        week_of=week_of(last_sent),
        to="maria@acme.example.com",
        state=EmailState.SENT,
        sent_on=last_sent,
    )

    (digest_id,) = _claim(django_capture_on_commit_callbacks)

    (message,) = smtp_server.wait_for(1)
    monday = week_of(now)
    assert message["To"] == "maria@acme.example.com"
    assert message["Subject"] == (
        f"Learner progress at Acme University: week of {monday:%B} {monday.day}, {monday.year}"
    )
    text = body_text(message, "plain")
    html = body_text(message, "html")
    link = f"{settings.SITE_BASE_URL}/manage/contracts/{contract.pk}/#progress"
    since = timezone.localtime(last_sent)
    for part in (text, html):
        assert "Hello Maria Manager" in part
        assert f"since your last digest, on {since:%B} {since.day}" in part
        assert (
            "Invited: 4 (40%); Joined: 4 (40%); Enrolled: 4 (40%); Started: 3 (30%); "
            "Passed: 2 (20%); Certified: 2 (20%)." in part
        )
        assert "Completion rate: 50%. Needing attention: 2." in part
        assert "What changed: 2 joined, 1 passed, 2 certified, 1 newly needing attention." in part
        assert link in part
        assert "Analytics Basics" in part
    # the contract without progress says so, before the other, by title
    assert text.index("Analytics Basics") < text.index("Data Science 2026")
    assert "No progress has come from the course platform yet." in text
    digest = ProgressDigest.objects.get(pk=digest_id)
    assert (digest.state, digest.attempts, digest.last_error) == (EmailState.SENT, 1, "")
    assert digest.since == last_sent
    assert digest.week_of == monday


def test_the_first_digest_reports_the_last_seven_days(
    org, manager, smtp_server, django_capture_on_commit_callbacks
):
    contract = f.ContractPageFactory(parent=org, title="Data Science 2026")
    _members(contract, 1, days_ago=3)
    _members(contract, 1, days_ago=10)
    _claim(django_capture_on_commit_callbacks)
    text = body_text(smtp_server.wait_for(1)[0], "plain")
    assert "The changes below are those of the last seven days." in text
    assert "What changed: 1 joined." in text


def test_a_contract_showing_aggregates_only_hides_small_counts_in_the_digest(
    org, manager, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.B2B_PROGRESS_MIN_GROUP = 5
    contract = f.ContractPageFactory(
        parent=org, title="Private", progress_visibility=ProgressVisibility.AGGREGATES
    )
    run = f.CourseRunFactory(b2b_contract=contract)
    members = _members(contract, 6, days_ago=1)
    for i, member in enumerate(members[:2]):
        done_row(contract, run, f"p{i}", user=member.user)
    for i, member in enumerate(members[2:]):
        progress_row(contract, run, f"e{i}", user=member.user)
    _claim(django_capture_on_commit_callbacks)
    text = body_text(smtp_server.wait_for(1)[0], "plain")
    assert (
        "Invited: 6 (100%); Joined: 6 (100%); Enrolled: 6 (100%); Started: fewer than 5; "
        "Passed: fewer than 5; Certified: fewer than 5." in text
    )
    assert (
        "What changed: 6 joined, fewer than 5 passed, fewer than 5 certified, "
        "0 newly needing attention." in text
    )
    assert "Needing attention: 0." in text
    for i in range(2):  # no learner is named
        assert f"p{i}" not in text


def test_each_manager_gets_one_digest_a_week_however_often_the_task_runs(
    org, manager, smtp_server, django_capture_on_commit_callbacks
):
    f.ContractPageFactory(parent=org)
    other_org = f.OrganizationPageFactory()
    second = OrganizationManager.objects.create(
        user=f.UserFactory(email="sam@other.example.com"), organization=other_org, wants_digest=True
    )
    claimed = _claim(django_capture_on_commit_callbacks)
    assert len(claimed) == 2
    assert _claim(django_capture_on_commit_callbacks) == []
    later = _this_monday(hour=20)
    assert _claim(django_capture_on_commit_callbacks, now=later) == []
    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["maria@acme.example.com", "sam@other.example.com"]
    assert ProgressDigest.objects.filter(manager=second).count() == 1
    # a replay of one digest's task sends nothing more
    assert send_progress_digest_task(claimed[0]) == "sent"
    assert len(smtp_server.messages) == 2


def test_digests_go_out_from_mondays_hour_and_a_missed_monday_later_in_the_week(
    org, manager, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.B2B_PROGRESS_DIGEST_HOUR = 7
    assert _claim(django_capture_on_commit_callbacks, now=_this_monday(hour=6)) == []
    assert ProgressDigest.objects.count() == 0
    # nothing ran on Monday (beat down): Tuesday's run sends the week's digest, once
    tuesday = _this_monday(hour=3) + timedelta(days=1)
    assert len(_claim(django_capture_on_commit_callbacks, now=tuesday)) == 1
    assert _claim(django_capture_on_commit_callbacks, now=tuesday + timedelta(days=2)) == []
    # next week starts again on Monday at the hour
    next_monday = _this_monday(hour=6) + timedelta(days=7)
    assert _claim(django_capture_on_commit_callbacks, now=next_monday) == []
    assert (
        len(_claim(django_capture_on_commit_callbacks, now=next_monday + timedelta(hours=1))) == 1
    )


def test_managers_who_opted_out_or_lost_the_role_get_nothing(
    org, manager, smtp_server, django_capture_on_commit_callbacks
):
    OrganizationManager.objects.create(
        user=f.UserFactory(email="off@acme.example.com"), organization=org, wants_digest=False
    )
    # claimed, then the role is removed before the digest is sent
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (digest_id,) = claim_weekly_digests(now=_this_monday())
    manager.delete()
    for callback in callbacks:
        callback()
    assert not ProgressDigest.objects.filter(pk=digest_id).exists()
    assert smtp_server.messages == []


def test_a_manager_who_turns_the_digest_off_before_it_is_sent_gets_nothing(
    org, manager, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (digest_id,) = claim_weekly_digests(now=_this_monday())
    OrganizationManager.objects.filter(pk=manager.pk).update(wants_digest=False)
    for callback in callbacks:
        callback()
    digest = ProgressDigest.objects.get(pk=digest_id)
    assert (digest.state, digest.attempts) == (EmailState.FAILED, 0)
    assert digest.last_error == "The manager no longer wants the digest."
    assert smtp_server.messages == []


def test_a_transient_refusal_is_retried_then_sent(
    org, manager, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refuse_next(1, "421 4.7.0 Try again later")
    (digest_id,) = _claim(django_capture_on_commit_callbacks)
    assert len(smtp_server.wait_for(1)) == 1
    digest = ProgressDigest.objects.get(pk=digest_id)
    assert (digest.state, digest.attempts, digest.last_error) == (EmailState.SENT, 2, "")


def test_a_permanent_refusal_is_recorded_and_not_sent_again(
    org, manager, smtp_server, django_capture_on_commit_callbacks, settings
):
    smtp_server.refuse_next(1, "550 5.1.1 No such mailbox")
    (digest_id,) = _claim(django_capture_on_commit_callbacks)
    digest = ProgressDigest.objects.get(pk=digest_id)
    assert (digest.state, digest.attempts, digest.transient_failure) == (
        EmailState.FAILED,
        1,
        False,
    )
    assert digest.last_error == "550 5.1.1 No such mailbox"
    settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_digests() == []
    assert smtp_server.messages == []


def test_a_digest_failed_after_every_retry_is_sent_by_the_sweep(
    org, manager, settings, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.B2B_EMAIL_MAX_ATTEMPTS = 2
    (digest_id,) = _claim(django_capture_on_commit_callbacks)
    digest = ProgressDigest.objects.get(pk=digest_id)
    assert (digest.state, digest.attempts, digest.transient_failure) == (EmailState.FAILED, 2, True)
    assert "Connection refused" in digest.last_error and "\n" not in digest.last_error
    settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS = 0
    server = SmtpServer().start()
    try:
        settings.EMAIL_PORT = server.port
        with django_capture_on_commit_callbacks(execute=True):
            assert requeue_digests() == [digest_id]
        (message,) = server.wait_for(1)
        assert message["To"] == "maria@acme.example.com"
    finally:
        server.stop()
    digest.refresh_from_db()
    assert (digest.state, digest.attempts, digest.transient_failure) == (EmailState.SENT, 3, False)
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_digests() == []


def test_the_sweep_leaves_the_failed_digests_of_past_weeks(
    org, manager, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS = 0
    ProgressDigest.objects.create(
        manager=manager,
        week_of=week_of(timezone.now()) - timedelta(days=7),
        to="maria@acme.example.com",
        state=EmailState.FAILED,
        transient_failure=True,
        attempts=5,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_digests() == []
    assert smtp_server.messages == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_claiming_at_once_send_one_digest(site_tree, smtp_server):
    from tests.support.races import race

    org = f.OrganizationPageFactory()
    OrganizationManager.objects.create(
        user=f.UserFactory(email="maria@acme.example.com"), organization=org, wants_digest=True
    )
    monday = _this_monday()
    outcomes = race([lambda: claim_weekly_digests(now=monday) for _ in range(2)])
    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert sorted(len(o) for o in outcomes) == [0, 1]
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "maria@acme.example.com"
    assert ProgressDigest.objects.get().state == EmailState.SENT
