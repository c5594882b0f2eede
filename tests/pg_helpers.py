"""PostgreSQL helpers for concurrency tests: threads with their own connections, waiting until
a connection is blocked on a row lock, and a raw connection that plays another client."""

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from django.db import connection


def lock_waiters() -> int:
    """How many other connections to this database are waiting for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def wait_until(condition: Callable[[], bool], *, timeout: float = 20, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def deadlocks_so_far() -> int:
    """The deadlocks PostgreSQL has detected in this database since its statistics began."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


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


def other_client() -> psycopg.Connection:
    """A raw connection to the test database, as another program would open one. It never
    runs PostgreSQL's deadlock check first: when it closes a cycle, the connection that was
    already waiting is the one that sees the deadlock."""
    settings = connection.settings_dict
    raw = psycopg.connect(
        dbname=settings["NAME"],
        user=settings.get("USER") or None,
        password=settings.get("PASSWORD") or None,
        host=settings.get("HOST") or "127.0.0.1",
        port=settings.get("PORT") or 5432,
    )
    raw.execute("SET deadlock_timeout = '30s'")
    raw.commit()
    return raw
