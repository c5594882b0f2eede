"""What every tracked e-mail of b2b shares (invitations, progress nudges, progress digests): the
message built from a pair of templates, one attempt to send it, and the reading of a failure as
transient (try again later) or permanent, with the server's answer on one line.

Each kind of message keeps its own row and decides what an outcome changes; this module only
says what the attempt did. A transient failure is an SMTP 4xx answer or a connection refused,
dropped or timed out; retries wait ``B2B_EMAIL_RETRY_SECONDS``, doubled each time up to
``B2B_EMAIL_RETRY_MAX_SECONDS``, for at most ``B2B_EMAIL_MAX_ATTEMPTS`` attempts in all.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from b2b.enums import EmailState
from config.db_errors import one_line


@dataclass(frozen=True)
class SendOutcome:
    """What one attempt did: the message's state afterwards, and the error on one line.
    ``out_of_retries``: it failed for a transient reason on its last allowed attempt (a sweep
    may send it again once the server answers)."""

    state: EmailState
    error: str = ""
    out_of_retries: bool = False

    @property
    def transient(self) -> bool:
        return self.state == EmailState.RETRYING


def html_message(
    *, subject: str, template: str, context: dict[str, Any], to: str
) -> EmailMultiAlternatives:
    """A message to ``to`` whose text part is ``<template>.txt`` and HTML part
    ``<template>.html``, from DEFAULT_FROM_EMAIL."""
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    message.attach_alternative(html, "text/html")
    return message


def send_attempt(build: Callable[[], EmailMessage], *, attempts: int) -> SendOutcome:
    """Build the message and send it, its ``attempts``-th attempt: SENT, RETRYING (transient,
    attempts left) or FAILED (permanent, or transient on the last attempt: ``out_of_retries``).
    A message that cannot be built (a template's error) fails for good, like a 5xx."""
    try:
        build().send()
    except Exception as exc:
        outcome = classify(exc)
        if outcome.transient and attempts >= settings.B2B_EMAIL_MAX_ATTEMPTS:
            return SendOutcome(EmailState.FAILED, outcome.error, out_of_retries=True)
        return outcome
    return SendOutcome(EmailState.SENT)


class TrackedEmail(Protocol):
    """A row that tracks one e-mail message (``InvitationEmail``, ``ProgressNudge``,
    ``ProgressDigest``)."""

    attempts: int
    state: str
    last_error: str
    transient_failure: bool
    sent_on: datetime | None

    def save(self, *, update_fields: list[str]) -> None: ...


TRACKED_FIELDS = ["attempts", "state", "last_error", "transient_failure", "sent_on", "updated_on"]


def record_send(row: TrackedEmail, outcome: SendOutcome) -> SendOutcome:
    """Write how a send ended on its row: the state and error, when it was sent, and whether the
    sweep may send it again (``transient_failure``: out of retries on a transient failure)."""
    if outcome.state == EmailState.SENT:
        row.sent_on = timezone.now()
    row.state = outcome.state
    row.last_error = outcome.error
    row.transient_failure = outcome.out_of_retries
    row.save(update_fields=TRACKED_FIELDS)
    return outcome


def attempt_send(row: TrackedEmail, build: Callable[[], EmailMessage]) -> SendOutcome:
    """One more attempt at the row's message (``build`` makes it), recorded on the row. Call it
    with the row locked, only while it is queued or retrying."""
    row.attempts += 1
    return record_send(row, send_attempt(build, attempts=row.attempts))


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)


def _error_line(exc: Exception) -> str:
    """The server's answer on one line ("451 try later"), or the error's own line."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(answer)}"
            for address, (code, answer) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return one_line(exc)


def classify(exc: Exception) -> SendOutcome:
    """Transient (RETRYING): an SMTP 4xx answer, a refused, dropped or timed-out connection.
    Anything else is permanent (FAILED): a 5xx answer first of all."""
    code = _smtp_code(exc)
    error = " ".join(_error_line(exc).split())
    if code is not None:
        return SendOutcome(EmailState.RETRYING if 400 <= code < 500 else EmailState.FAILED, error)
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return SendOutcome(EmailState.RETRYING, error)
    return SendOutcome(EmailState.FAILED, error)


def retry_countdown(attempts: int) -> int:
    """Seconds before the next attempt after ``attempts`` attempts: B2B_EMAIL_RETRY_SECONDS,
    doubled each time, at most B2B_EMAIL_RETRY_MAX_SECONDS."""
    return min(
        settings.B2B_EMAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0),
        settings.B2B_EMAIL_RETRY_MAX_SECONDS,
    )
