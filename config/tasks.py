"""Project-level tasks."""

from config.celery import app


@app.task(name="config.ping")
def ping(value: str = "pong") -> str:
    """Echo ``value``: proves a worker is consuming the queue (used by health checks and tests)."""
    return value
