"""Queueing Celery tasks after commit: the one way services of every app send queued work.

A service calls ``queue_after_commit("<app>.<task name>", *ids)`` inside its transaction. Nothing
is sent if the transaction rolls back; once it commits, the task is sent by its registered name,
so a service never imports its app's task module (the task module imports the service).

Whatever happens after the commit, the committed change stands and the caller carries on:

- with a broker (``CELERY_BROKER_URL``), a task that cannot be sent (the broker is down or
  unreachable) is logged as one warning line, without a traceback; the row it was meant for
  keeps its pending state, which the operator sees and which can be queued again later;
- without a broker the task runs here and now (eager); if it raises, which only a bug should
  make it do, the error is logged with its traceback, as a worker would log it.

A caller that reports to a person (an operator's command) wraps its work in ``noting_unsent()``
to learn which tasks could not be sent, and says that their work is pending.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)

Call = tuple[str, tuple[int | str, ...]]  # (task name, arguments)

# The tasks that could not be sent, while a ``noting_unsent()`` block runs.
_unsent: ContextVar[list[Call] | None] = ContextVar("unsent_tasks", default=None)


@contextmanager
def noting_unsent() -> Iterator[list[Call]]:
    """Collect the tasks that could not be sent to the broker during the block, as
    (task name, arguments); the list fills as commits happen inside the block."""
    unsent: list[Call] = []
    token = _unsent.set(unsent)
    try:
        yield unsent
    finally:
        _unsent.reset(token)


def queue_after_commit(task_name: str, *args: int | str) -> None:
    """Send the task named ``task_name`` with ``args`` once the current transaction commits (at
    once outside a transaction)."""
    transaction.on_commit(partial(_send, task_name, args))


@cache
def _register_tasks() -> None:
    """Import every app's task module, as a worker does when it starts (Celery's autodiscovery),
    so that a task named here can also run in this process when there is no broker.

    Django is set up already (a service is queueing), so the modules are imported directly, not
    through the loader's ``import_default_modules``: that sends Celery's ``import_modules``
    signal, on which Celery's Django fixup runs ``django.setup()`` again, and a second setup
    puts Django's ``LOGGING`` back in place of the logging a worker has configured (the worker
    would log nothing more). Django is set up once per process.
    """
    app = _app()
    app.autodiscover_tasks(force=True)  # each installed app's ``tasks`` module
    for module in app.loader.default_modules:  # ``imports``: config.tasks
        app.loader.import_task_module(module)


def _app() -> "Celery":
    """The project's Celery app, imported on the first task sent: a process that never queues
    work (most ``manage.py`` commands) does not load Celery and kombu."""
    return import_string("config.celery.app")


def _send(task_name: str, args: tuple[int | str, ...]) -> None:
    _register_tasks()
    app = _app()
    call = f"{task_name}({', '.join(map(repr, args))})"
    signature = app.signature(task_name, args=args)
    if app.conf.task_always_eager:
        try:
            signature.apply_async()
        except Exception:
            log.exception("%s failed after commit", call)
        return
    try:
        signature.apply_async()
    except Exception as exc:  # whatever the transport raises: the task was not sent
        unsent = _unsent.get()
        if unsent is not None:
            unsent.append((task_name, args))
        reason = " ".join(str(exc).split()) or type(exc).__name__
        log.warning(
            "Could not queue %s after commit (%s); the change is saved and its queued work "
            "stays pending",
            call,
            reason,
        )
