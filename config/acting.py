"""Who is making the current change, and through what: the context the audit trail records.

Each way into the system says so once, at its edge: ``ActingMiddleware`` for web requests (the
channel from the URL; the user read when a change is recorded, so that a user authenticated
later, by the REST API's token, is seen), ``config.commands`` for management commands, and a
task or a test with ``acting(...)``. Services never take the actor as an argument; the audit
service (``b2b.services.audit``) reads ``current_actor()`` when it records a change.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.http import HttpRequest, HttpResponse


class Channel(StrEnum):
    """Through what a change was made."""

    CLI = "cli"
    WAGTAIL = "wagtail"
    ADMIN = "admin"
    API = "api"
    SSO = "sso"
    CHECKOUT = "checkout"
    MANAGER = "manager"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The person or program behind a change.

    ``user`` is a user or ``None``; ``request`` (when given) supplies the user at the time of the
    change instead. ``label`` names a program: the command with the operating-system user
    (``manage.py b2b_contract (os user root)``), or a periodic task.
    """

    channel: Channel
    user: Any = None
    label: str = ""
    request: HttpRequest | None = field(default=None, compare=False, repr=False)

    def resolved_user(self) -> Any:
        """The signed-in user behind the change, or ``None`` for a program or a visitor."""
        user = self.user
        if user is None and self.request is not None:
            user = getattr(self.request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return user

    def describe(self) -> str:
        """One line for people: the user's e-mail, else the program."""
        user = self.resolved_user()
        if user is not None:
            return str(getattr(user, "email", "") or user)
        return self.label or self.channel.value


SYSTEM = Actor(channel=Channel.SYSTEM, label="system")
_current: ContextVar[Actor] = ContextVar("acting_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Attribute the changes made inside the block to ``actor``."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def command_actor(command_name: str) -> Actor:
    """The actor of a management command: the command, and who ran it on the machine."""
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. a container's arbitrary user)
        os_user = "unknown"
    return Actor(channel=Channel.CLI, label=f"manage.py {command_name} (os user {os_user})")


# The channel of a web request, by the start of its path (the first match wins).
_CHANNEL_BY_PATH: tuple[tuple[str, Channel], ...] = (
    ("/cms/", Channel.WAGTAIL),
    ("/admin/", Channel.ADMIN),
    ("/api/", Channel.API),
    ("/manage/", Channel.MANAGER),
    ("/auth/", Channel.SSO),
)


def channel_of_path(path: str) -> Channel:
    for prefix, channel in _CHANNEL_BY_PATH:
        if path.startswith(prefix):
            return channel
    return Channel.CHECKOUT


class ActingMiddleware:
    """Attribute every change a web request makes to its user and the part of the site used."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor = Actor(channel=channel_of_path(request.path_info), request=request)
        with acting(actor):
            return self.get_response(request)
