"""The harness of the concurrency tests: work in threads with database connections of their
own, started at the same instant or one at a time, and a wait for the moment a thread got where
the test wants it (blocked on a lock, paused at a hook)."""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the callables at the same instant, one thread and connection each; returns their
    outcomes (the value, or the exception raised), in the order they finished."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            result = call()
        except Exception as exc:  # handed to the test, which asserts on it
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == len(calls)
    return outcomes


class InThread:
    """Run ``function`` in a thread with its own database connection; ``result()`` joins it
    and returns what it returned, or raises what it raised."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self.done = threading.Event()

        def run() -> None:
            try:
                self._value = function()
            except BaseException as exc:  # handed to the test by result()
                self._error = exc
            finally:
                connection.close()
                self.done.set()

        self._thread = threading.Thread(target=run)
        self._thread.start()

    def result(self, timeout: float = 60) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("the thread did not finish")
        if self._error is not None:
            raise self._error
        return self._value


def wait_until(condition: Callable[[], bool], *, timeout: float = 20, what: str) -> None:
    """Poll ``condition`` until it holds; fail the test saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)
