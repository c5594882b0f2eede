"""Celery keeps "a task is running here, never block on a result" in one process-wide flag, and
each eager run sets it and puts back what it found when it ends. Two threads running eager tasks
at once (the concurrency tests do) can therefore leave it set for good, and every later
``result.get()`` in the session then fails with "Never call result.get() within a task!" (CI
stop 17 failed that way). The suite's ``_celery_join_flag`` fixture puts the flag back before
each test; these two tests, in this order, show the leak and that it stays in its test.
"""

import threading

from celery import current_app
from celery._state import task_join_will_block

from config.celery import app as celery_app
from config.tasks import ping

_first_inside = threading.Event()
_second_inside = threading.Event()
_release_first = threading.Event()
_release_second = threading.Event()


@celery_app.task(name="tests.hold_until_released")
def _hold_until_released(which: str) -> str:
    if which == "first":
        _first_inside.set()
        _release_first.wait(10)
    else:
        _second_inside.set()
        _release_second.wait(10)
    return which


def test_two_threads_running_eager_tasks_leave_the_join_flag_set():
    assert current_app.conf.task_always_eager is True
    assert task_join_will_block() is False

    first = threading.Thread(target=_hold_until_released.delay, args=["first"])
    second = threading.Thread(target=_hold_until_released.delay, args=["second"])
    first.start()
    assert _first_inside.wait(10)
    second.start()
    assert _second_inside.wait(10)
    _release_first.set()  # the first ends while the second still runs: it clears the flag...
    first.join(10)
    _release_second.set()  # ...and the second puts back the "set" it found when it began
    second.join(10)

    assert task_join_will_block() is True


def test_the_next_test_can_wait_on_a_result_again():
    assert task_join_will_block() is False
    assert ping.delay("after the leak").get(timeout=1) == "after the leak"
