"""The reminder cooldown: an invitation e-mailed (invited or reminded) less than
B2B_INVITATION_REMIND_COOLDOWN_SECONDS ago is not reminded again, whoever asks: a manager's page,
the API, or the automatic reminders. One rule, in the invitation service."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from b2b.exceptions import RemindTooSoon
from b2b.models import Invitation, InvitationEmail
from b2b.services.invitations.invite import invite
from b2b.services.invitations.lifecycle import (
    RemindAllResult,
    remind,
    remind_all_open,
    send_due_reminders,
)
from users.services.api_tokens import create_api_token

pytestmark = pytest.mark.django_db

HOUR = 3600


def _reminders(invitation=None) -> int:
    found = InvitationEmail.objects.filter(kind="reminder")
    return found.filter(invitation=invitation).count() if invitation else found.count()


def _age(invitation, *, minutes: int, reminded: bool = False) -> None:
    """Pretend the invitation's last e-mail went out ``minutes`` ago."""
    moment = timezone.now() - timedelta(minutes=minutes)
    field = "last_reminded_on" if reminded else "created_on"
    Invitation.objects.filter(pk=invitation.pk).update(**{field: moment, "last_emailed_on": moment})


@pytest.fixture
def cooldown(settings):
    settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS = HOUR
    return settings


def test_a_fresh_invitation_is_not_reminded_until_the_cooldown_has_passed(orgs, cooldown):
    invitation = invite(contract=orgs.contract_a, email="ann@acme.example", by=orgs.manager)
    _age(invitation, minutes=12)
    with pytest.raises(RemindTooSoon) as refused:
        remind(invitation=invitation, by=orgs.manager)
    assert str(refused.value) == (
        "ann@acme.example was e-mailed less than 60 minutes ago; "
        "it can be reminded again in 48 minutes"
    )
    assert 47 * 60 < refused.value.wait_seconds <= 48 * 60
    assert _reminders() == 0
    _age(invitation, minutes=61)
    remind(invitation=invitation, by=orgs.manager)
    assert _reminders(invitation) == 1
    with pytest.raises(RemindTooSoon):  # the reminder starts a new cooldown
        remind(invitation=invitation, by=orgs.manager)
    assert _reminders(invitation) == 1
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 1


def test_remind_all_skips_the_invitations_in_their_cooldown(orgs, cooldown):
    old = [
        invite(contract=orgs.contract_a, email=f"old{i}@acme.example", by=orgs.manager)
        for i in range(3)
    ]
    for invitation in old:
        _age(invitation, minutes=90)
    invite(contract=orgs.contract_a, email="new@acme.example", by=orgs.manager)
    reminded_lately = old[0]
    _age(reminded_lately, minutes=5, reminded=True)

    assert remind_all_open(contract=orgs.contract_a, by=orgs.manager) == RemindAllResult(
        reminded=2, in_cooldown=2
    )
    assert remind_all_open(contract=orgs.contract_a, by=orgs.manager) == RemindAllResult(
        reminded=0, in_cooldown=4
    )
    assert _reminders() == 2
    assert _reminders(reminded_lately) == 0


def test_the_automatic_reminders_keep_the_cooldown_too(orgs, settings):
    settings.B2B_INVITATION_REMINDER_DAYS = 1
    settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS = 3 * 24 * HOUR  # longer than the days
    invitation = invite(contract=orgs.contract_a, email="ann@acme.example", by=orgs.manager)
    now = timezone.now()
    assert send_due_reminders(now=now + timedelta(days=2)) == 0  # due, but in its cooldown
    assert send_due_reminders(now=now + timedelta(days=3, minutes=1)) == 1
    assert _reminders(invitation) == 1


# The pages


def _contract_page(client, contract) -> str:
    return client.get(f"/manage/contracts/{contract.pk}/").content.decode()


def test_the_page_says_when_an_invitation_can_be_reminded_and_refuses_a_second_click(
    manager_client, orgs, cooldown
):
    contract = orgs.contract_a
    invitation = invite(contract=contract, email="ann@acme.example", by=orgs.manager)
    _age(invitation, minutes=61)
    url = f"/manage/contracts/{contract.pk}/invitations/{invitation.pk}/remind/"
    page = _contract_page(manager_client, contract)
    assert 'aria-label="Remind ann@acme.example"' in page

    first = manager_client.post(url, follow=True)
    assert "A reminder to ann@acme.example is on its way." in first.content.decode()
    page = first.content.decode()
    assert 'aria-label="Remind ann@acme.example"' not in page  # no button during the cooldown
    assert "Remind in 60 minutes" in page

    second = manager_client.post(url, follow=True)  # the button's form, posted again
    text = second.content.decode()
    assert second.status_code == 200
    assert (
        "ann@acme.example was e-mailed less than 60 minutes ago; "
        "it can be reminded again in 60 minutes"
    ) in text
    assert "is on its way" not in text
    assert _reminders(invitation) == 1


def test_remind_everyone_on_the_page_says_how_many_were_left_in_their_cooldown(
    manager_client, orgs, cooldown
):
    contract = orgs.contract_a
    old = invite(contract=contract, email="old@acme.example", by=orgs.manager)
    _age(old, minutes=90)
    invite(contract=contract, email="new1@acme.example", by=orgs.manager)
    invite(contract=contract, email="new2@acme.example", by=orgs.manager)
    url = f"/manage/contracts/{contract.pk}/remind-all/"

    text = manager_client.post(url, follow=True).content.decode()
    assert (
        "Reminders to 1 people are on their way. 2 e-mailed less than 60 minutes ago were "
        "not reminded again."
    ) in text
    text = manager_client.post(url, follow=True).content.decode()
    assert "Nobody was reminded: 3 e-mailed less than 60 minutes ago were not reminded again." in (
        text
    )
    assert _reminders() == 1


# The API


@pytest.fixture
def api(orgs):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {create_api_token(email=orgs.manager.email).token}"
    )
    return client


def test_the_api_answers_429_with_the_wait_and_remind_all_counts_the_cooldown(api, orgs, cooldown):
    contract = orgs.contract_a
    invitation = invite(contract=contract, email="ann@acme.example", by=orgs.manager)
    _age(invitation, minutes=50)
    base = f"/api/v1/manager/contracts/{contract.pk}/invitations"

    response = api.post(f"{base}/{invitation.pk}/remind/")
    assert response.status_code == 429
    assert response.json() == {
        "error": {
            "code": "remind_too_soon",
            "message": "ann@acme.example was e-mailed less than 60 minutes ago; "
            "it can be reminded again in 10 minutes",
            "fields": {},
        }
    }
    assert 9 * 60 < int(response["Retry-After"]) <= 10 * 60
    assert api.post(f"{base}/remind/").json() == {"reminded": 0, "in_cooldown": 1}
    _age(invitation, minutes=61)
    assert api.post(f"{base}/{invitation.pk}/remind/").status_code == 200
    assert api.post(f"{base}/remind/").json() == {"reminded": 0, "in_cooldown": 1}
    assert _reminders(invitation) == 1
