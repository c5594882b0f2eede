"""A large upload queued to a real Celery worker on Redis: the page answers at once, the
status view reports the worker's progress, and the worker sends the invitations through real
SMTP."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from b2b.enums import InviteJobState, InviteOutcome
from b2b.models import Invitation, InviteJob
from config.celery import app
from tests.b2b.helpers import capped_contract

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROWS = 120


@pytest.fixture
def celery_worker_env(smtp_server):
    """The worker sends its e-mail to the test's SMTP server, in batches of 40 rows."""
    return {
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        "B2B_INVITATION_BATCH_SIZE": "40",
    }


@pytest.fixture
def queue_to_worker(celery_worker_process, redis_url):
    """This process (the web process) sends what it queues after commit to the worker's broker
    instead of running it here (tests run without a broker: eagerly)."""
    before = {"task_always_eager": True, "broker_url": app.conf.broker_url}
    app.conf.update(task_always_eager=False, broker_url=redis_url)
    app.__dict__.pop("pool", None)
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield celery_worker_process
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.update(before)


def _upload(rows: int) -> bytes:
    return ("email\n" + "".join(f"person{i:04d}@acme.example\n" for i in range(rows))).encode()


def test_a_large_upload_runs_on_the_worker_with_progress(
    manager_client,
    orgs,
    settings,
    celery_worker_process,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    settings.B2B_INVITE_INLINE_ROWS = 50
    contract = capped_contract(orgs.a, cap=ROWS + 10, title="Acme Sales")
    url = f"/manage/contracts/{contract.pk}/invite-many/"
    response = manager_client.post(
        url, {"file": SimpleUploadedFile("people.csv", _upload(ROWS), "text/csv")}
    )
    assert response.status_code == 302
    job = InviteJob.objects.get()
    status_url = f"/manage/contracts/{contract.pk}/jobs/{job.pk}/status/"

    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = manager_client.get(status_url).json()
        if not seen or status != seen[-1]:
            seen.append(status)
        if status["finished"]:
            break
        time.sleep(0.05)
    assert seen[-1] == {
        "state": "done",
        "rows": ROWS,
        "done": ROWS,
        "total": ROWS,
        "percent": 100,
        "finished": True,
    }
    assert all(s["done"] in (0, 40, 80, 120) for s in seen)
    assert [s["percent"] for s in seen] == sorted(s["percent"] for s in seen)

    job.refresh_from_db()
    assert job.state == InviteJobState.DONE
    assert set(job.row_set.values_list("outcome", flat=True)) == {InviteOutcome.INVITED}
    assert Invitation.objects.filter(contract=contract).count() == ROWS
    messages = smtp_server.wait_for(ROWS, timeout=120)
    assert sorted(m["To"] for m in messages) == [f"person{i:04d}@acme.example" for i in range(ROWS)]

    page = manager_client.get(f"/manage/contracts/{contract.pk}/jobs/{job.pk}/")
    assert f'<span class="status">{ROWS}</span> invited' in page.content.decode()
