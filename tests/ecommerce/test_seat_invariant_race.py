"""The seat invariant of a capped contract under a storm of managers and learners (PostgreSQL,
real parallel connections).

Rounds of revokes (each replacing the code it takes back), new invitations, checkouts with the
invitees' codes or any of the contract's codes (as the codes CSV hands them out) and payment
receipts run at once, released together by a barrier. A monitor on its own connection reads the
invariant in one statement (one snapshot) over and over while they run, and the test reads it
again after each round:

- members + open invitations + newcomers paying (a pending order within the hold, on a code no
  open invitation holds) never exceed the cap;
- the codes a newcomer could still take (active, unredeemed, not set aside for an open
  invitation, not held) never exceed the seats left;
- no order is paid and not enrolled (errored, refund due).

The first round is scripted: the invitee is at the payment page when the manager revokes her
invitation and two newcomers check out, which is the trial's case (1.1).
"""

import random
import threading
from decimal import Decimal

import pytest
from django.db import connection

from b2b.exceptions import InvitationInUse, InvitationNotOpen, InvitationRefused
from b2b.models import ContractMembership, Invitation
from b2b.services.invitations.invite import invite
from b2b.services.invitations.lifecycle import revoke
from ecommerce.enums import OrderState
from ecommerce.exceptions import EcommerceError
from ecommerce.models import Discount, Order
from ecommerce.services.baskets import add_product_to_basket, apply_code_to_basket
from ecommerce.services.checkout import check_out
from ecommerce.services.payments import process_payment_response
from tests.ecommerce import helpers as h
from tests.support.cybersource_server import processor_response
from tests.support.races import InThread

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CAP = 3
URLS = h.PAYMENT_URLS

# One statement, so one snapshot: (members, open invitations, newcomers paying, usable codes,
# orders paid and not enrolled).
CENSUS_SQL = """
WITH open_codes AS (
    SELECT i.code_id FROM b2b_invitation i
    WHERE i.contract_id = %(c)s AND i.state = 'open' AND i.code_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ecommerce_discountredemption r WHERE r.discount_id = i.code_id)
), members AS (
    SELECT user_id FROM b2b_contractmembership WHERE contract_id = %(c)s
), paying AS (
    SELECT DISTINCT o.purchaser_id FROM ecommerce_order o
    JOIN ecommerce_discount d ON d.id = o.discount_id
    WHERE d.b2b_contract_id = %(c)s AND o.state = 'pending'
      AND o.created_on >= now() - interval '2 hours'
      AND o.purchaser_id NOT IN (SELECT user_id FROM members)
      AND o.discount_id NOT IN (SELECT code_id FROM open_codes)
), usable AS (
    SELECT d.id FROM ecommerce_discount d
    WHERE d.b2b_contract_id = %(c)s AND d.is_active
      AND NOT EXISTS (SELECT 1 FROM ecommerce_discountredemption r WHERE r.discount_id = d.id)
      AND d.id NOT IN (SELECT code_id FROM open_codes)
      AND NOT EXISTS (
          SELECT 1 FROM ecommerce_order o WHERE o.discount_id = d.id AND o.state = 'pending'
            AND o.created_on >= now() - interval '2 hours')
      AND NOT EXISTS (
          SELECT 1 FROM ecommerce_basketdiscount b WHERE b.discount_id = d.id
            AND b.created_on >= now() - interval '2 hours')
)
SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM open_codes),
       (SELECT count(*) FROM paying), (SELECT count(*) FROM usable),
       (SELECT count(*) FROM ecommerce_order o JOIN ecommerce_discount d ON d.id = o.discount_id
         WHERE d.b2b_contract_id = %(c)s AND (o.refund_due OR o.state = 'errored'))
"""


def census(contract_id: int) -> tuple[int, int, int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute(CENSUS_SQL, {"c": contract_id})
        return cursor.fetchone()


def violations(contract_id: int) -> list[str]:
    members, invited, paying, usable, unpaid = census(contract_id)
    seats_left = CAP - members - invited - paying
    found = []
    if seats_left < 0:
        found.append(f"{members} members + {invited} invited + {paying} paying > cap {CAP}")
    if usable > max(seats_left, 0):
        found.append(f"{usable} usable codes > {seats_left} seats left")
    if unpaid:
        found.append(f"{unpaid} orders paid and not enrolled")
    return found


class Monitor:
    """Reads the invariant again and again on its own connection until stopped."""

    def __init__(self, contract_id: int) -> None:
        self.seen: list[str] = []
        self.reads = 0
        self._stop = threading.Event()

        def watch() -> None:
            while not self._stop.is_set():
                self.seen += violations(contract_id)
                self.reads += 1

        self._thread = InThread(watch)

    def stop(self) -> None:
        self._stop.set()
        self._thread.result()


class World:
    """The contract, its product, and what each learner holds: an invitation, a payment form."""

    def __init__(self) -> None:
        self.contract, (self.product,) = h.b2b_product(
            max_learners=CAP, enrollment_fixed_price=Decimal("120")
        )
        self.learners: dict[str, object] = {}
        self.payments: dict[str, dict] = {}  # email -> the payment form's fields
        self.invited = 0
        self.outcomes: list[str] = []
        self.lock = threading.Lock()

    def learner(self, email: str):
        with self.lock:
            if email not in self.learners:
                self.learners[email] = h.learner(email)
            return self.learners[email]

    def note(self, outcome: str) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    # The actions, each in its own thread and connection.

    def invite_someone(self) -> None:
        with self.lock:
            self.invited += 1
            email = f"invitee{self.invited}@example.com"
        try:
            invite(contract=self.contract, email=email, by=None)
            self.note("invited")
        except InvitationRefused:
            self.note("no seat to invite")

    def revoke_one(self, invitation_id: int) -> None:
        try:
            revoke(invitation=Invitation.objects.get(pk=invitation_id), by=None)
            self.note("revoked")
        except InvitationInUse:
            self.note("revoke refused: in use")
        except InvitationNotOpen:
            self.note("revoke refused: not open")

    def check_out(self, email: str, code: str) -> None:
        user = self.learner(email)
        try:
            add_product_to_basket(user=user, product_id=self.product.pk)
            apply_code_to_basket(user=user, code=code)
            outcome = check_out(user=user, ip_address="127.0.0.1", urls=URLS)
        except EcommerceError as exc:
            self.note(f"checkout refused: {type(exc).__name__}")
            return
        assert outcome.payment is not None
        with self.lock:
            self.payments[email] = outcome.payment.fields
        self.note("at the payment page")

    def receipt(self, email: str, decision: str) -> None:
        with self.lock:
            fields = self.payments.pop(email)
        order = process_payment_response(data=processor_response(fields, decision=decision))
        self.note(f"receipt {decision}: {order.state}")


def open_invitations(contract) -> list[tuple[int, str, str]]:
    return list(
        Invitation.objects.filter(contract=contract, state="open")
        .exclude(code__redemptions__isnull=False)
        .values_list("pk", "email", "code__discount_code")
    )


def codes_csv(contract) -> list[str]:
    """What the codes CSV hands out as unredeemed: every active code nobody redeemed."""
    return list(
        Discount.objects.filter(b2b_contract=contract, is_active=True, redemptions__isnull=True)
        .order_by("pk")
        .values_list("discount_code", flat=True)
    )


def run_round(world: World, actions: list) -> None:
    barrier = threading.Barrier(len(actions))

    def released(action):
        def run():
            barrier.wait(timeout=30)
            action()

        return run

    threads = [InThread(released(action)) for action in actions]
    for thread in threads:
        thread.result()


def random_actions(world: World, rng: random.Random) -> list:
    contract = world.contract
    invitations = open_invitations(contract)
    members = set(
        ContractMembership.objects.filter(contract=contract).values_list("user__email", flat=True)
    )
    actions: list = []
    busy: set[str] = set()  # one action per learner a round, as one person does one thing
    for email in list(world.payments):
        if rng.random() < 0.6:
            decision = "ACCEPT" if rng.random() < 0.8 else "DECLINE"
            actions.append(lambda e=email, d=decision: world.receipt(e, d))
            busy.add(email)
    for pk, email, code in invitations:
        if email not in members | busy and email not in world.payments and rng.random() < 0.6:
            actions.append(lambda e=email, c=code: world.check_out(e, c))
            busy.add(email)
        if rng.random() < 0.4:
            actions.append(lambda i=pk: world.revoke_one(i))
    codes = codes_csv(contract)
    for _ in range(rng.randint(1, 3)):
        email = f"newcomer{rng.randint(1, 6)}@example.com"
        if codes and email not in members | busy and email not in world.payments:
            chosen = rng.choice(codes)
            actions.append(lambda e=email, c=chosen: world.check_out(e, c))
            busy.add(email)
    if rng.random() < 0.5:
        actions.append(world.invite_someone)
    return actions or [world.invite_someone]


@pytest.mark.parametrize("seed", [7, 2026, 31337])
def test_revoke_replace_checkout_and_receipts_at_once_keep_the_seat_invariant(
    site_tree, cybersource, seed
):
    world = World()
    contract = world.contract
    ann = invite(contract=contract, email="ann@example.com", by=None)
    invite(contract=contract, email="bob@example.com", by=None)
    monitor = Monitor(contract.pk)
    try:
        # The trial's case: Ann is at the payment page when her invitation is revoked, while two
        # newcomers try the contract's codes.
        world.check_out("ann@example.com", ann.code.discount_code)
        assert "ann@example.com" in world.payments
        codes = codes_csv(contract)
        run_round(
            world,
            [
                lambda: world.revoke_one(ann.pk),
                lambda: world.check_out("newcomer1@example.com", codes[-1]),
                lambda: world.check_out("newcomer2@example.com", codes[-1]),
            ],
        )
        assert violations(contract.pk) == []
        rng = random.Random(seed)
        for _ in range(12):
            run_round(world, random_actions(world, rng))
            assert violations(contract.pk) == [], world.outcomes
        for email in list(world.payments):  # every payment still open is accepted
            world.receipt(email, "ACCEPT")
            assert violations(contract.pk) == [], world.outcomes
    finally:
        monitor.stop()

    assert monitor.reads > 0
    assert monitor.seen == [], world.outcomes
    assert "revoke refused: in use" in world.outcomes
    members = ContractMembership.objects.filter(contract=contract).count()
    assert members <= CAP
    paid = Order.objects.filter(discount__b2b_contract=contract, transactions__isnull=False)
    assert not paid.filter(refund_due=True).exists()
    assert not Order.objects.filter(state=OrderState.ERRORED).exists()
    accepted = [o for o in world.outcomes if o.startswith("receipt ACCEPT")]
    assert accepted and all(o.endswith("fulfilled") for o in accepted), world.outcomes
