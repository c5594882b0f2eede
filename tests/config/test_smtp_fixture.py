"""The loopback SMTP server the e-mail tests read from, driven through Django's SMTP backend."""

import smtplib

import pytest
from django.core.mail import EmailMultiAlternatives

from tests.support.smtp_server import body_text


def _send(subject: str) -> None:
    message = EmailMultiAlternatives(subject, "plain body", to=["ann@example.com"])
    message.attach_alternative("<p>html body</p>", "text/html")
    message.send()


def test_messages_sent_by_django_arrive_parsed(smtp_server):
    _send("Hello")
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Hello"
    assert message["To"] == "ann@example.com"
    assert body_text(message).strip() == "plain body"
    assert body_text(message, "html").strip() == "<p>html body</p>"


def test_refused_message_raises_the_smtp_error_and_is_not_kept(smtp_server):
    smtp_server.refuse_next(1, "451 4.3.0 Mailbox busy")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send("Refused")
    assert refused.value.smtp_code == 451
    _send("Accepted")
    assert [m["Subject"] for m in smtp_server.wait_for(1)] == ["Accepted"]
