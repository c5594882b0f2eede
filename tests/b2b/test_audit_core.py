"""The audit trail's core: who and through what (config.acting), the record, reading it back."""

import pytest
from django.core.management.base import BaseCommand
from django.test import RequestFactory
from django.urls import reverse

from b2b.selectors.history import page_history
from b2b.services.audit import changed_fields, record
from config.acting import (
    ActingMiddleware,
    Actor,
    Channel,
    acting,
    channel_of_path,
    current_actor,
)
from config.commands import OneLineErrorsMixin
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def ours(page):
    """The trail's entries of ``page`` without Wagtail's own (the factory's create/publish)."""
    return [entry for entry in page_history(page.pk) if entry.action.startswith("b2b.")]


@pytest.fixture
def contract(site_tree):
    return f.ContractPageFactory(title="Spring cohort")


def test_changed_fields_keeps_only_differences_as_json_values():
    from datetime import date
    from decimal import Decimal

    before = {"max_learners": 10, "price": Decimal("5.00"), "start": None, "title": "A"}
    after = {"max_learners": 12, "price": Decimal("5.00"), "start": date(2027, 1, 2), "title": "A"}
    assert changed_fields(before, after) == {
        "max_learners": {"before": 10, "after": 12},
        "start": {"before": None, "after": "2027-01-02"},
    }


def test_record_outside_any_entry_point_is_the_system(contract):
    record(contract, "b2b.contract.change", changes={"max_learners": {"before": 1, "after": 2}})
    [entry] = ours(contract)
    assert (entry.action, entry.label, entry.actor, entry.channel) == (
        "b2b.contract.change",
        "Contract terms changed",
        "system",
        "system",
    )
    assert entry.changes == {"max_learners": {"before": 1, "after": 2}}
    assert entry.details == {}


def test_record_names_the_user_and_details(contract):
    staff = f.UserFactory(email="editor@example.com")
    with acting(Actor(channel=Channel.ADMIN, user=staff)):
        record(contract, "b2b.membership.add", details={"learner": "ann@example.com"})
    [entry] = ours(contract)
    assert (entry.actor, entry.channel, entry.details) == (
        "editor@example.com",
        "admin",
        {"learner": "ann@example.com"},
    )


def test_unknown_action_is_refused_and_nothing_is_logged(contract):
    with pytest.raises(ValueError, match=r"unknown audit action 'b2b\.nope'"):
        record(contract, "b2b.nope")
    assert ours(contract) == []


def test_a_command_is_the_actor_of_its_changes(contract):
    seen = []

    class Command(OneLineErrorsMixin, BaseCommand):
        def handle(self, *args, **options):
            seen.append(current_actor())

    Command.__module__ = "b2b.management.commands.b2b_contract"
    Command().execute(stdout=None, stderr=None, no_color=True, force_color=False, skip_checks=True)
    [actor] = seen
    assert actor.channel is Channel.CLI
    assert actor.describe().startswith("manage.py b2b_contract (os user ")
    assert current_actor().channel is Channel.SYSTEM  # restored afterwards


@pytest.mark.parametrize(
    ("path", "channel"),
    [
        ("/cms/pages/3/edit/", Channel.WAGTAIL),
        ("/admin/users/user/1/change/", Channel.ADMIN),
        ("/api/v1/contracts/", Channel.API),
        ("/manage/", Channel.MANAGER),
        ("/auth/complete/oidc/", Channel.SSO),
        ("/cart/", Channel.CHECKOUT),
        ("/checkout/", Channel.CHECKOUT),
    ],
)
def test_channel_of_a_request_path(path, channel):
    assert channel_of_path(path) is channel


def test_middleware_reads_the_user_when_the_change_is_recorded(contract):
    """A REST API token authenticates after the middleware ran: the user is read late."""
    request = RequestFactory().post("/api/v1/contracts/")
    request.user = None
    learner = f.UserFactory(email="api-user@example.com")

    def view(req):
        req.user = learner  # what DRF does when the token is accepted
        record(contract, "b2b.contract.change")
        return None

    ActingMiddleware(view)(request)
    [entry] = ours(contract)
    assert (entry.actor, entry.channel) == ("api-user@example.com", "api")


def test_our_actions_show_in_the_contract_history_in_wagtail(client, contract):
    with acting(Actor(channel=Channel.CLI, label="manage.py b2b_contract (os user ops)")):
        record(contract, "b2b.contract.change", changes={"max_learners": {"before": 1, "after": 2}})
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("wagtailadmin_pages:history", args=[contract.pk]))
    assert response.status_code == 200
    assert "Contract terms changed" in response.content.decode()
