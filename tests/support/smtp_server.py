"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for e-mail tests.

Tests send through Django's SMTP backend to it and read the messages back as parsed e-mails;
nothing of the mail layer is replaced.
"""

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class _Mailbox:
    """The aiosmtpd handler: stores each accepted message; can be told to refuse the next ones."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_next = 0
        self.refusal = "451 4.3.0 Try again later"
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: SMTP, session, envelope) -> str:
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return self.refusal
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until at least ``count`` messages have arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} e-mail(s) within {timeout}s, got {len(self.messages)}"
                    )
                self._arrived.wait(left)
            return list(self.messages)


def _free_port() -> int:
    """A port free on loopback now (aiosmtpd's controller cannot be given port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """A running server: ``host``/``port`` to send to, ``messages`` received so far."""

    def __init__(self) -> None:
        self.mailbox = _Mailbox()
        self._port = _free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self._port)

    def start(self) -> "SmtpServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._port

    def worker_env(self) -> dict[str, str]:
        """The settings, as environment variables, that make a Celery worker mail this server."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": str(self.port),
        }

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.mailbox.messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        return self.mailbox.wait_for(count, timeout)

    def refuse_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        """Refuse the next ``count`` messages with ``reply`` (4xx transient, 5xx permanent)."""
        self.mailbox.refusal = reply
        self.mailbox.refuse_next = count


def body_text(message: EmailMessage, subtype: str = "plain") -> str:
    """The text/plain (or text/html) part of a received message."""
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part in {message['Subject']!r}"
    return part.get_content()
