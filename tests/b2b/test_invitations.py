"""Invitations by e-mail: seats, codes, per-row results, revocation, reminders, redemption."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from b2b.enums import InvitationEmailKind, InvitationState, InviteOutcome
from b2b.exceptions import InvitationNotOpen, InvitationRefused
from b2b.models import Invitation, InvitationEmail
from b2b.selectors.history import page_history
from b2b.selectors.invitations import invitation_rows
from b2b.services.code_terms import code_stamp
from b2b.services.invitations.invite import InviteRow, invite, invite_many, seats_left
from b2b.services.invitations.lifecycle import (
    RemindAllResult,
    remind,
    remind_all_open,
    revoke,
    send_due_reminders,
    sync_redeemed,
)
from ecommerce.models import Discount
from ecommerce.selectors import with_code_terms
from tests.b2b.helpers import change, contract_with_codes, emails_of, reconcile, redeem, usable
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def outcomes(results):
    return [(r.row, r.email, r.outcome) for r in results]


def test_invite_sets_aside_an_unused_pool_code(site_tree):
    contract, (product,) = contract_with_codes(max_learners=3)
    boss = f.UserFactory()
    invitation = invite(contract=contract, email="  Ann@Example.COM ", name="Ann", by=boss)
    assert (invitation.email, invitation.name, invitation.state) == (
        "ann@example.com",
        "Ann",
        InvitationState.OPEN,
    )
    assert invitation.invited_by == boss
    assert invitation.code.b2b_contract_id == contract.pk
    assert invitation.code.is_active and invitation.code.redemption_type == "one-time"
    assert list(invitation.code.products.all()) == [product]
    assert len(invitation.token) >= 40
    second = invite(contract=contract, email="bob@example.com", by=boss)
    assert second.code_id != invitation.code_id
    assert seats_left(contract) == 1
    (email,) = InvitationEmail.objects.filter(invitation=invitation)
    assert (email.kind, email.to) == (InvitationEmailKind.INVITATION, "ann@example.com")


def test_invite_many_gives_one_result_per_row(site_tree):
    contract, _ = contract_with_codes(max_learners=4)
    member = f.UserFactory(email="Member@Example.com")
    f.ContractMembershipFactory(user=member, contract=contract)
    invite(contract=contract, email="old@example.com", by=None)
    rows = [
        InviteRow("a@example.com", "A"),
        InviteRow("not an e-mail"),
        InviteRow("member@example.com"),
        InviteRow("OLD@example.com"),
        InviteRow("A@example.com"),
        InviteRow("b@example.com"),
        InviteRow("c@example.com"),
        InviteRow(""),
    ]
    results = invite_many(contract=contract, rows=rows, by=None)
    assert outcomes(results) == [
        (1, "a@example.com", InviteOutcome.INVITED),
        (2, "not an e-mail", InviteOutcome.INVALID_EMAIL),
        (3, "member@example.com", InviteOutcome.ALREADY_MEMBER),
        (4, "old@example.com", InviteOutcome.ALREADY_INVITED),
        (5, "a@example.com", InviteOutcome.DUPLICATE),
        (6, "b@example.com", InviteOutcome.INVITED),
        (7, "c@example.com", InviteOutcome.NO_SEATS),
        (8, "", InviteOutcome.INVALID_EMAIL),
    ]
    # cap 4 = 1 member + 3 open invitations
    assert emails_of(contract, state="open") == [
        "a@example.com",
        "b@example.com",
        "old@example.com",
    ]
    assert seats_left(contract) == 0
    with pytest.raises(InvitationRefused) as refused:
        invite(contract=contract, email="d@example.com", by=None)
    assert refused.value.outcome == InviteOutcome.NO_SEATS
    assert str(refused.value) == "'d@example.com' was not invited: no seats left"


def test_redeemed_invitations_leave_their_seat_to_the_member(site_tree):
    contract, _ = contract_with_codes(max_learners=2)
    first = invite(contract=contract, email="a@example.com", by=None)
    invite(contract=contract, email="b@example.com", by=None)
    joined = f.UserFactory(email="other-address@example.com")
    redeem(first.code, joined)
    f.ContractMembershipFactory(user=joined, contract=contract)
    assert seats_left(contract) == 0  # one member + one open invitation
    rows = {row.email: row for row in invitation_rows(contract.pk)}
    assert rows["a@example.com"].state == InvitationState.REDEEMED
    assert rows["a@example.com"].redeemed_by == "other-address@example.com"
    assert rows["a@example.com"].redeemed_on is not None
    assert rows["b@example.com"].state == InvitationState.OPEN


def test_uncapped_contract_makes_a_personal_one_time_code(site_tree):
    contract, (product,) = contract_with_codes(max_learners=None)
    (pool,) = usable(product)
    assert pool.redemption_type == "unlimited"
    results = invite_many(
        contract=contract, rows=[InviteRow(f"p{i}@example.com") for i in range(3)], by=None
    )
    assert [r.outcome for r in results] == [InviteOutcome.INVITED] * 3
    codes = with_code_terms(Discount.objects.filter(invitations__contract=contract))
    assert codes.count() == 3
    assert {(c.redemption_type, c.is_active, c.price) for c in codes} == {
        ("one-time", True, contract.price)
    }
    assert {p.pk for c in codes for p in c.products.all()} == {product.pk}
    assert pool.pk not in set(codes.values_list("pk", flat=True))


def test_revoke_deactivates_the_code_and_refills_the_pool(site_tree):
    contract, (product,) = contract_with_codes(max_learners=2)
    invitation = invite(contract=contract, email="a@example.com", by=None)
    before = usable(product).count()
    boss = f.UserFactory()
    revoke(invitation=invitation, by=boss)
    invitation.refresh_from_db()
    invitation.code.refresh_from_db()
    assert invitation.state == InvitationState.REVOKED
    assert invitation.revoked_by == boss and invitation.revoked_on is not None
    assert invitation.code.is_active is False
    assert usable(product).count() == before  # a fresh code took its place
    assert seats_left(contract) == 2
    assert InvitationEmail.objects.filter(invitation=invitation, kind="revoke").count() == 1
    with pytest.raises(InvitationNotOpen):
        revoke(invitation=invitation, by=boss)
    with pytest.raises(InvitationNotOpen):
        remind(invitation=invitation, by=boss)
    again = invite(contract=contract, email="a@example.com", by=None)  # may be invited again
    assert again.code_id != invitation.code_id


def test_revoke_on_an_uncapped_contract_adds_no_code(site_tree):
    contract, _ = contract_with_codes(max_learners=None)
    invitation = invite(contract=contract, email="a@example.com", by=None)
    total = Discount.objects.filter(b2b_contract=contract).count()
    revoke(invitation=invitation, by=None)
    assert Discount.objects.filter(b2b_contract=contract).count() == total
    invitation.code.refresh_from_db()
    assert invitation.code.is_active is False


def test_reminders_by_hand_and_when_due(site_tree, settings):
    settings.B2B_INVITATION_REMINDER_DAYS = 3
    settings.B2B_INVITATION_MAX_REMINDERS = 2
    settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS = 0  # the cooldown has tests of its own
    contract, _ = contract_with_codes(max_learners=5)
    a = invite(contract=contract, email="a@example.com", by=None)
    b = invite(contract=contract, email="b@example.com", by=None)
    c = invite(contract=contract, email="c@example.com", by=None)
    revoke(invitation=c, by=None)
    remind(invitation=a, by=None)
    a.refresh_from_db()
    assert a.reminders_sent == 1 and a.last_reminded_on is not None
    assert remind_all_open(contract=contract, by=None) == RemindAllResult(2, 0)
    assert set(Invitation.objects.values_list("email", "reminders_sent")) == {
        ("a@example.com", 2),
        ("b@example.com", 1),
        ("c@example.com", 0),
    }
    now = timezone.now()
    assert send_due_reminders(now=now) == 0  # nobody is due yet
    later = now + timedelta(days=3, minutes=1)
    assert send_due_reminders(now=later) == 1  # b only: a has had its 2 reminders
    assert send_due_reminders(now=later) == 0  # just reminded
    assert send_due_reminders(now=later + timedelta(days=3, minutes=1)) == 0  # b has had 2
    kinds = InvitationEmail.objects.filter(invitation=b).values_list("kind", flat=True)
    assert sorted(kinds) == ["invitation", "reminder", "reminder"]


def test_sync_redeemed_stores_and_audits_the_redemption(site_tree):
    contract, _ = contract_with_codes(max_learners=3)
    invitation = invite(contract=contract, email="a@example.com", by=None)
    learner = f.UserFactory(email="work@example.com")
    redeem(invitation.code, learner)
    assert sync_redeemed() == 1
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.REDEEMED
    assert invitation.redeemed_by == learner
    assert sync_redeemed() == 0
    actions = [entry.action for entry in page_history(contract.pk)]
    assert "b2b.invitation.redeem" in actions and "b2b.invitation.send" in actions


def test_every_action_is_audited(site_tree, settings):
    settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS = 0
    contract, _ = contract_with_codes(max_learners=3)
    invitation = invite(contract=contract, email="a@example.com", by=None)
    remind(invitation=invitation, by=None)
    revoke(invitation=invitation, by=None)
    actions = [entry.action for entry in page_history(contract.pk)]
    for action in ("b2b.invitation.send", "b2b.invitation.remind", "b2b.invitation.revoke"):
        assert actions.count(action) == 1, action


def _queries_to_invite(contract, count, start):
    rows = [InviteRow(f"user{start + i}@example.com") for i in range(count)]
    with CaptureQueriesContext(connection) as captured:
        results = invite_many(contract=contract, rows=rows, by=None)
    assert {r.outcome for r in results} == {InviteOutcome.INVITED}
    return len(captured.captured_queries)


@pytest.mark.parametrize("cap", [1000, None])
def test_a_batch_costs_the_same_queries_whatever_its_size(site_tree, settings, cap):
    settings.B2B_INVITATION_BATCH_SIZE = 1000
    contract, _ = contract_with_codes(max_learners=cap)
    few = _queries_to_invite(contract, 3, 0)
    many = _queries_to_invite(contract, 60, 100)
    assert few == many
    settings.B2B_INVITATION_BATCH_SIZE = 20
    assert _queries_to_invite(contract, 60, 200) == 3 * few  # three batches


def test_personal_codes_survive_reconciliation_and_carry_the_contract_terms(site_tree):
    """A personal one-time code is the invitation's own: a later reconciliation of the uncapped
    contract (here after a price and date change) re-prices and re-dates it like every code but
    never turns it into the contract's shared unlimited code."""
    contract, (product,) = contract_with_codes(
        max_learners=None, contract_start=date(2027, 1, 1), contract_end=date(2027, 6, 30)
    )
    invitation = invite(contract=contract, email="p@example.com", by=None)
    personal = with_code_terms(Discount.objects.filter(pk=invitation.code_id)).get()
    stamp = code_stamp(contract)
    assert (personal.usable_from, personal.usable_until) == (
        stamp.activation,
        stamp.expiration,
    )
    change(contract, enrollment_fixed_price=Decimal("25.00"), contract_end=date(2027, 7, 31))
    reconcile(contract)
    personal = with_code_terms(Discount.objects.filter(pk=personal.pk)).get()
    contract.refresh_from_db()
    stamp = code_stamp(contract)
    assert (personal.redemption_type, personal.is_active, personal.price) == (
        "one-time",
        True,
        Decimal("25.00"),
    )
    assert personal.usable_until == stamp.expiration
    (pool,) = usable(product).filter(redemption_type="unlimited")
    assert pool.pk != personal.pk
    reconcile(contract)  # and again: nothing left to do
    personal.refresh_from_db()
    assert personal.redemption_type == "one-time"


def test_a_name_is_kept_on_one_line(site_tree):
    """The name goes into the e-mail's text: a manager (or an uploaded file) cannot add lines."""
    contract, _ = contract_with_codes(max_learners=None)
    invitation = invite(
        contract=contract,
        email="ann@example.com",
        name="Ann\r\n\r\nLog in at http://evil.example\tnow",
        by=None,
    )
    assert invitation.name == "Ann Log in at http://evil.example now"
