"""The sweep of managers' queued work nothing picked up (invite jobs, invitation e-mails), and
the health report's finding about it. Without a broker the re-queued work runs here, at once."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from b2b.enums import EmailState, InviteJobState, InviteOutcome
from b2b.models import InvitationEmail, InviteJob
from b2b.services.health.repair import repair_findings
from b2b.services.health.report import health_report
from b2b.services.invitations.jobs import run_invite_job, start_invite_job
from b2b.services.invitations.sweep import Requeued, requeue_invitation_work, stalled_work
from b2b.services.invitations.uploads import UploadRow
from tests.b2b.helpers import contract_with_codes, stall_invitation_work

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(site_tree, settings):
    settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS = 600
    settings.B2B_INVITE_JOB_STALE_SECONDS = 300
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    made, _ = contract_with_codes(max_learners=10)
    return made


def _ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


def _job(contract, *emails, minutes=0):
    rows = [UploadRow(line=i + 2, email=email, name="") for i, email in enumerate(emails)]
    job = start_invite_job(contract=contract, rows=rows, by=None)  # never run: no commit here
    InviteJob.objects.filter(pk=job.pk).update(created_on=_ago(minutes), queued_on=_ago(minutes))
    return job


def test_work_queued_longer_than_the_grace_is_queued_again_and_done_once(
    contract, django_capture_on_commit_callbacks
):
    old_job = _job(contract, "ann@example.com", "bob@example.com", minutes=11)
    new_job = _job(contract, "cid@example.com", minutes=9)
    _jobs, (old_email,) = stall_invitation_work(contract, jobs=0, emails=1, minutes=11)
    _jobs, (new_email,) = stall_invitation_work(contract, jobs=0, emails=1, minutes=9)

    with django_capture_on_commit_callbacks(execute=True):
        requeued = requeue_invitation_work()

    assert requeued == Requeued(job_ids=[old_job.pk], email_ids=[old_email.pk])
    old_job.refresh_from_db()
    assert old_job.state == InviteJobState.DONE
    assert sorted(old_job.row_set.values_list("outcome", flat=True)) == [
        InviteOutcome.INVITED,
        InviteOutcome.INVITED,
    ]
    assert InviteJob.objects.get(pk=new_job.pk).state == InviteJobState.QUEUED
    assert InvitationEmail.objects.get(pk=old_email.pk).state == EmailState.SENT
    assert InvitationEmail.objects.get(pk=new_email.pk).state == EmailState.QUEUED
    # the old e-mail, and the two invitations of the job's rows
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [old_email.to, "ann@example.com", "bob@example.com"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_invitation_work() == Requeued()  # nothing left that is old enough


def test_work_queued_again_waits_a_new_grace_before_the_next_time(contract):
    """Queued again while the broker is still down: the next sweep leaves it until the grace
    has passed since this time, not since the first."""
    job = _job(contract, "ann@example.com", minutes=30)
    _jobs, (email,) = stall_invitation_work(contract, jobs=0, emails=1, minutes=30)
    assert requeue_invitation_work() == Requeued([job.pk], [email.pk])  # not sent: no commit
    assert requeue_invitation_work() == Requeued()
    later = timezone.now() + timedelta(minutes=10, seconds=1)
    assert requeue_invitation_work(now=later) == Requeued([job.pk], [email.pk])


def test_a_job_being_run_is_left_alone_and_a_dead_workers_job_is_taken_over(contract):
    job = _job(contract, "ann@example.com", minutes=30)
    InviteJob.objects.filter(pk=job.pk).update(
        state=InviteJobState.RUNNING, started_on=_ago(4), beat_on=_ago(4)
    )
    assert requeue_invitation_work() == Requeued()  # a worker is at it (a batch 4 minutes ago)
    assert run_invite_job(job_id=job.pk) is None  # a second delivery does not run it too
    assert job.row_set.get().outcome == ""

    InviteJob.objects.filter(pk=job.pk).update(beat_on=_ago(6))  # no news for 6 minutes: dead
    assert requeue_invitation_work() == Requeued(job_ids=[job.pk])
    done = run_invite_job(job_id=job.pk)
    assert done is not None and done.state == InviteJobState.DONE
    assert job.row_set.get().outcome == InviteOutcome.INVITED


def test_a_lost_retry_is_queued_again_but_not_one_waiting_for_its_turn(contract, settings):
    settings.B2B_EMAIL_RETRY_MAX_SECONDS = 900
    _jobs, (waiting, lost) = stall_invitation_work(contract, jobs=0, emails=2, minutes=60)
    InvitationEmail.objects.filter(pk=waiting.pk).update(
        state=EmailState.RETRYING, attempts=2, updated_on=_ago(20)
    )
    InvitationEmail.objects.filter(pk=lost.pk).update(
        state=EmailState.RETRYING, attempts=2, updated_on=_ago(26)
    )
    assert requeue_invitation_work() == Requeued(email_ids=[lost.pk])
    lost.refresh_from_db()
    assert (lost.state, lost.attempts) == (EmailState.QUEUED, 2)
    assert InvitationEmail.objects.get(pk=waiting.pk).state == EmailState.RETRYING


def test_sent_and_failed_e_mails_and_finished_jobs_are_not_work(contract):
    jobs, emails = stall_invitation_work(contract, jobs=1, emails=2, minutes=60)
    InviteJob.objects.filter(pk=jobs[0].pk).update(state=InviteJobState.DONE)
    InvitationEmail.objects.filter(pk=emails[0].pk).update(state=EmailState.SENT)
    InvitationEmail.objects.filter(pk=emails[1].pk).update(state=EmailState.FAILED)
    assert requeue_invitation_work() == Requeued()
    assert stalled_work() == []


# The health report


def test_the_health_report_lists_the_stalled_work_until_it_is_done(
    contract, django_capture_on_commit_callbacks
):
    stall_invitation_work(contract, jobs=1, emails=2, minutes=125)
    stall_invitation_work(contract, jobs=0, emails=1, minutes=30)
    stall_invitation_work(contract, jobs=0, emails=1, minutes=5)  # not yet: within the grace

    (finding,) = [f for f in health_report().findings if f.check == "invitation-work-stalled"]
    assert finding.contract_id == contract.pk
    assert finding.what == (
        "1 invite job(s) and 3 invitation e-mail(s) queued and not picked up, the oldest for "
        "2 h 05 min"
    )
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:  # 1: findings
        call_command("b2b_health", "--format", "json", stdout=out)
    assert exited.value.code == 1
    assert '"check": "invitation-work-stalled"' in out.getvalue()

    # queued again, the broker still down (nothing runs: no commit here): still a finding
    requeue_invitation_work()
    assert [f.check for f in health_report().findings].count("invitation-work-stalled") == 1

    with django_capture_on_commit_callbacks(execute=True):
        outcome = repair_findings(health_report(contract_id=contract.pk))
    done = [what for finding, what in outcome.repaired if finding.check.startswith("invitation")]
    assert done == ["queued 0 invite job(s) and 0 invitation e-mail(s) again"]  # just done

    later = timezone.now() + timedelta(minutes=11)
    with django_capture_on_commit_callbacks(execute=True):
        requeue_invitation_work(now=later)
    assert "invitation-work-stalled" not in [f.check for f in health_report().findings]
    assert InvitationEmail.objects.filter(state=EmailState.SENT).count() == 4


def test_the_sweep_and_the_finding_read_a_constant_number_of_queries(
    contract, django_assert_num_queries
):
    """Four statements for the sweep (the jobs and e-mails chosen and stamped; in a test its
    transaction is a savepoint: two more) and two for the finding, however much work is
    stalled; the sends are queued after commit."""
    stall_invitation_work(contract, jobs=1, emails=1, minutes=30)
    with django_assert_num_queries(6):
        small = requeue_invitation_work(now=timezone.now() + timedelta(hours=1))
    stall_invitation_work(contract, jobs=20, emails=300, minutes=30)
    with django_assert_num_queries(6):
        large = requeue_invitation_work(now=timezone.now() + timedelta(hours=2))
    assert (len(small.job_ids), len(small.email_ids)) == (1, 1)
    assert (len(large.job_ids), len(large.email_ids)) == (21, 301)
    with django_assert_num_queries(2):
        (work,) = stalled_work()
    assert (work.jobs, work.emails) == (21, 301)
