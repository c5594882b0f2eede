"""Invitation e-mails through a real SMTP server on loopback, with their recorded states."""

import socket

import pytest

from b2b.enums import EmailState
from b2b.models import InvitationEmail
from b2b.services.invitations.emails import build_message
from b2b.services.invitations.invite import invite
from b2b.services.invitations.lifecycle import remind, revoke
from courses.models import CourseRun
from tests.b2b.helpers import contract_with_codes
from tests.support import factories as f
from tests.support.smtp_server import body_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(site_tree):
    org = f.OrganizationPageFactory(title="Acme University")
    contract, _ = contract_with_codes(max_learners=5, parent=org, title="Data Science 2026")
    return contract


def _invite(contract, django_capture_on_commit_callbacks, email="ann@example.com", name="Ann"):
    with django_capture_on_commit_callbacks(execute=True):
        return invite(contract=contract, email=email, name=name, by=None)


def test_the_invitation_arrives_with_organization_courseware_and_link(
    contract, smtp_server, django_capture_on_commit_callbacks, settings
):
    invitation = _invite(contract, django_capture_on_commit_callbacks)
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "ann@example.com"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["Subject"] == "You are invited to join Data Science 2026 at Acme University"
    link = f"{settings.SITE_BASE_URL}/invitations/{invitation.token}/"
    for part in (body_text(message, "plain"), body_text(message, "html")):
        assert "Hello Ann" in part
        assert "Acme University" in part and "Data Science 2026" in part
        assert link in part
        assert invitation.code.discount_code in part
    text = body_text(message, "plain")
    (run,) = CourseRun.objects.filter(b2b_contract=contract)
    assert f"{run.title} ({run.courseware_id})" in text
    (record,) = InvitationEmail.objects.all()
    assert (record.state, record.attempts, record.last_error) == (EmailState.SENT, 1, "")
    assert record.sent_on is not None


def test_a_refused_message_is_retried_then_sent(
    contract, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refuse_next(1, "451 4.3.0 Mailbox busy, try later")
    _invite(contract, django_capture_on_commit_callbacks)
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "ann@example.com"
    (record,) = InvitationEmail.objects.all()
    assert (record.state, record.attempts) == (EmailState.SENT, 2)
    assert record.last_error == ""


def test_a_permanent_refusal_fails_at_once_with_the_server_answer(
    contract, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refuse_next(1, "550 5.1.1 No such mailbox")
    _invite(contract, django_capture_on_commit_callbacks)
    (record,) = InvitationEmail.objects.all()
    assert (record.state, record.attempts) == (EmailState.FAILED, 1)
    assert record.last_error == "550 5.1.1 No such mailbox"
    assert smtp_server.messages == []


def test_an_unreachable_server_is_retried_up_to_the_limit(
    contract, settings, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.B2B_EMAIL_MAX_ATTEMPTS = 3
    _invite(contract, django_capture_on_commit_callbacks)
    (record,) = InvitationEmail.objects.all()
    assert (record.state, record.attempts) == (EmailState.FAILED, 3)
    assert "Connection refused" in record.last_error
    assert "\n" not in record.last_error


def test_reminder_and_withdrawal_e_mails(
    contract, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS = 0
    invitation = _invite(contract, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        remind(invitation=invitation, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        revoke(invitation=invitation, by=None)
    messages = smtp_server.wait_for(3)
    assert [m["Subject"] for m in messages] == [
        "You are invited to join Data Science 2026 at Acme University",
        "Reminder: your invitation to Data Science 2026 at Acme University",
        "Your invitation to Data Science 2026 at Acme University was withdrawn",
    ]
    assert invitation.token in body_text(messages[1], "plain")
    withdrawn = body_text(messages[2], "plain")
    assert "withdrawn" in withdrawn and invitation.token not in withdrawn
    assert invitation.code.discount_code not in withdrawn
    assert set(InvitationEmail.objects.values_list("state", flat=True)) == {EmailState.SENT}


@pytest.mark.parametrize("courses", [1, 3])
def test_every_e_mail_names_all_the_contracts_courses_in_fixed_queries(
    site_tree, courses, django_assert_num_queries
):
    contract, _ = contract_with_codes(
        products=courses, max_learners=5, enrollment_fixed_price="45.00"
    )
    invitation = invite(contract=contract, email="ann@example.com", by=None)
    runs = list(CourseRun.objects.filter(b2b_contract=contract))
    assert len(runs) == courses
    for kind in ("invitation", "reminder", "revoke"):
        record = InvitationEmail.objects.create(invitation=invitation, kind=kind, to="a@b.c")
        email = InvitationEmail.objects.select_related(
            "invitation__contract", "invitation__code"
        ).get(pk=record.pk)
        with django_assert_num_queries(2):  # the organization; the contract's runs
            message = build_message(email)
        html = message.alternatives[0][0]
        for part in (message.body, html):
            for run in runs:
                assert f"{run.title} ({run.courseware_id})" in part
        if kind != "revoke":
            assert "Each course costs $45.00, paid when you enroll in it." in message.body
            assert "without another code" in html
