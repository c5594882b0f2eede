"""The invitation sweep on PostgreSQL with real connections: a broker that is down keeps a
large list and its e-mails queued, the health report lists them, and once a real worker (Redis)
is there the sweep's re-queued work is done, once; two sweeps at once, and two runs of one job
at once, do the work once."""

import logging
import socket
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from b2b.enums import EmailState, InviteJobState, InviteOutcome
from b2b.models import Invitation, InvitationEmail, InviteJob, InviteJobRow
from b2b.services.health.report import health_report
from b2b.services.invitations.invite import invite
from b2b.services.invitations.jobs import run_invite_job, start_invite_job
from b2b.services.invitations.sweep import Requeued, requeue_invitation_work
from b2b.services.invitations.uploads import UploadRow
from config.celery import app
from tests.b2b.helpers import contract_with_codes, stall_invitation_work

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

STALLED = "invitation-work-stalled"


def _closed_port() -> int:
    """A loopback port nothing listens on: a broker that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _broker(url: str):
    """This process (a web process, or beat's sweep) sends what it queues to ``url`` instead of
    running it here (tests run without a broker: eagerly)."""
    before = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    app.conf.update(task_always_eager=False, broker_url=url)
    _reset_pools()
    try:
        yield
    finally:
        _reset_pools(close=True)
        app.conf.update(before)


def _reset_pools(*, close: bool = False) -> None:
    """Make the app open new connections to its (new) broker; ``close`` closes those of the
    test's broker (never the default one, which kombu shares process-wide)."""
    if close and app._pool is not None:
        app._pool.force_close_all()
    app.__dict__.pop("pool", None)
    app._pool = None
    app.amqp._producer_pool = None


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _rows(*emails: str) -> list[UploadRow]:
    return [UploadRow(line=i + 2, email=email, name="") for i, email in enumerate(emails)]


def _wait(predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not finish in time")


@pytest.fixture
def celery_worker_env(smtp_server):
    return smtp_server.worker_env()


@pytest.mark.redis
def test_broker_down_then_a_real_worker_picks_the_requeued_work_up(
    site_tree, settings, smtp_server, celery_worker_process, redis_url, request
):
    settings.B2B_INVITE_INLINE_ROWS = 2
    settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS = 600
    contract, _ = contract_with_codes(max_learners=10)
    logged = _Records()
    queueing_log = logging.getLogger("config.queueing")
    queueing_log.addHandler(logged)  # whatever the logger's parents do with it
    request.addfinalizer(lambda: queueing_log.removeHandler(logged))

    with _broker(f"redis://127.0.0.1:{_closed_port()}/0"):
        job = start_invite_job(
            contract=contract,
            rows=_rows("a@example.com", "b@example.com", "c@example.com"),
            by=None,
        )
        invitation = invite(contract=contract, email="solo@example.com", by=None)
        refused = [r.getMessage() for r in logged.records]
        assert len(refused) == 2
        assert refused[0].startswith(f"Could not queue b2b.run_invite_job({job.pk}) after commit")
        assert all(r.levelno == logging.WARNING and r.exc_info is None for r in logged.records)
        (email,) = InvitationEmail.objects.filter(invitation=invitation)
        assert refused[1].startswith(f"Could not queue b2b.send_invitation_emails({email.pk})")

        later = timezone.now() + timedelta(minutes=11)
        (finding,) = [f for f in health_report(now=later).findings if f.check == STALLED]
        assert finding.what == (
            "1 invite job(s) and 1 invitation e-mail(s) queued and not picked up, the oldest "
            "for 11 min"
        )
        # the sweep, with the broker still down: queued again (refused again), still a finding
        assert requeue_invitation_work(now=later) == Requeued([job.pk], [email.pk])
        assert InviteJob.objects.get(pk=job.pk).state == InviteJobState.QUEUED
        assert InvitationEmail.objects.get(pk=email.pk).state == EmailState.QUEUED
        assert [f.check for f in health_report(now=later).findings].count(STALLED) == 1

    with _broker(redis_url):  # the broker is back, with a worker
        even_later = later + timedelta(minutes=11)
        assert requeue_invitation_work(now=even_later) == Requeued([job.pk], [email.pk])
        _wait(lambda: InviteJob.objects.get(pk=job.pk).state == InviteJobState.DONE)
        _wait(lambda: not InvitationEmail.objects.exclude(state=EmailState.SENT).exists())

    job.refresh_from_db()
    assert set(job.row_set.values_list("outcome", flat=True)) == {InviteOutcome.INVITED}
    messages = smtp_server.wait_for(4)
    assert sorted(m["To"] for m in messages) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "solo@example.com",
    ]
    assert STALLED not in [f.check for f in health_report(now=even_later).findings]
    time.sleep(1)
    assert len(smtp_server.wait_for(4)) == 4  # nothing sent twice


def _at_once(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=20)
            results[index] = work()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_sweeps_at_once_queue_each_piece_of_work_once(site_tree, settings, mailoutbox):
    settings.B2B_INVITATION_REQUEUE_AFTER_SECONDS = 600
    contract, _ = contract_with_codes(max_learners=10)
    jobs, emails = stall_invitation_work(contract, jobs=3, emails=40, minutes=30)

    first, second = _at_once(2, requeue_invitation_work)

    assert not set(first.job_ids) & set(second.job_ids)
    assert not set(first.email_ids) & set(second.email_ids)
    assert sorted(first.job_ids + second.job_ids) == sorted(j.pk for j in jobs)
    assert sorted(first.email_ids + second.email_ids) == sorted(e.pk for e in emails)
    # without a broker each sweep did what it queued, here: every message went out once
    assert sorted(m.to[0] for m in mailoutbox) == sorted(e.to for e in emails)
    assert not InvitationEmail.objects.exclude(state=EmailState.SENT).exists()
    assert not InviteJob.objects.exclude(state=InviteJobState.DONE).exists()


def test_two_runs_of_one_job_at_once_invite_each_row_once(site_tree, settings):
    """The sweep queued a job again while its first message was still on its way: both
    deliveries start together. One runs it; the other finds it running and leaves it."""
    settings.B2B_INVITATION_BATCH_SIZE = 2
    contract, _ = contract_with_codes(max_learners=10)
    job = InviteJob.objects.create(contract=contract, rows=5)  # queued, as the broker has it
    InviteJobRow.objects.bulk_create(
        InviteJobRow(job=job, position=i, line=i + 2, email=f"p{i}@example.com") for i in range(5)
    )

    results = _at_once(2, lambda: run_invite_job(job_id=job.pk))

    assert sorted(result is None for result in results) == [False, True]
    job.refresh_from_db()
    assert job.state == InviteJobState.DONE
    assert set(job.row_set.values_list("outcome", flat=True)) == {InviteOutcome.INVITED}
    assert Invitation.objects.filter(contract=contract).count() == 5
