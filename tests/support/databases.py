"""The test database seen from outside the test: the URL a child process reaches it by, a raw
connection that plays another client, and PostgreSQL's own view of locks and deadlocks."""

import psycopg
from django.db import connection


def database_url_for_subprocess() -> str:
    """A DATABASE_URL pointing a child process at the database the tests are using."""
    settings_dict = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("a worker process can only share the test database on PostgreSQL")
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def lock_waiters() -> int:
    """How many other connections to this database are waiting for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def deadlocks_so_far() -> int:
    """The deadlocks PostgreSQL has detected in this database since its statistics began."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


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
