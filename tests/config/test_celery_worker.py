import pytest

from config.celery import app as celery_app
from config.tasks import ping


@pytest.mark.redis
def test_ping_runs_in_a_real_worker(celery_worker_process):
    result = celery_worker_process.send_task("config.ping", args=["hello from the test"])
    assert result.get(timeout=60) == "hello from the test"


def test_ping_runs_eagerly_without_a_broker():
    assert celery_app.conf.task_always_eager is True
    assert ping.delay("eager").get(timeout=1) == "eager"


def test_services_queue_tasks_by_names_a_worker_registers():
    from b2b.services.codes.reconcile import RECONCILE_TASK
    from courses.services.edx_copy import COPY_TASK
    from courses.services.enrollments import PUSH_TASK

    celery_app.loader.import_default_modules()  # what a worker does when it starts
    assert {RECONCILE_TASK, COPY_TASK, PUSH_TASK} <= set(celery_app.tasks)
