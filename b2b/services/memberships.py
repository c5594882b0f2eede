"""Attaching learners to contracts: the one way in, whatever the path (code, purchase, SSO, staff).

``admission_refusal`` is the one owner of the rule "can this learner join this contract now?"
(active, inside its dates with the end date inclusive, room under the cap; on some paths also
free, or only for members). Every path asks it: ``attach_learner`` below, the staff form, the
cart's code check and the dashboard's free enrollment. The contract row is locked while
``attach_learner`` checks the rule, so concurrent attachments cannot exceed the learner cap.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Count, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from b2b.enums import AdmissionRefusal, MembershipSource
from b2b.exceptions import ContractNotFound, LearnersDoNotFit, MembershipRefused
from b2b.models import ContractMembership, ContractPage
from b2b.selectors.invitations import open_invitations_of
from b2b.services.alerts import claim_alerts, seat_thresholds
from b2b.services.audit import record
from b2b.services.locking import ContractLock, lock_contract, lock_contracts
from ecommerce.services.contract_codes.reads import paying_orders
from users.models import User

log = logging.getLogger(__name__)


@dataclass
class Attachment:
    membership: ContractMembership
    created: bool


def _read_contract(contract_id: int, *, lock: bool) -> ContractPage:
    if lock:  # one attachment at a time (b2b.services.locking: the lock order)
        return lock_contract(contract_id, mode=ContractLock.CHANGE)
    try:
        return ContractPage.objects.get(pk=contract_id)
    except ContractPage.DoesNotExist:
        raise ContractNotFound(f"No contract has id {contract_id}") from None


def lock_contracts_to_join(contract_ids: Iterable[int]) -> None:
    """Lock the contracts a learner is about to join, by ascending id, until the transaction
    ends: what checkout and payment receipts take before the code (the lock order,
    ``b2b.services.locking``), so that attaching the learner later needs no further wait."""
    lock_contracts(contract_ids, mode=ContractLock.CHANGE)


def admission_refusal(
    *,
    contract: ContractPage | None = None,
    contract_id: int | None = None,
    lock: bool = False,
    user: User | None = None,
    member: bool | None = None,
    free_only: bool = False,
    members_only: bool = False,
    day: date | None = None,
    code_id: int | None = None,
    paid: bool = False,
) -> AdmissionRefusal | None:
    """Why ``user`` cannot join (or, as a member, use) the contract on ``day``; None if they can.

    Give the contract, or its id: it is then read, and with ``lock`` its row stays locked until
    the caller's transaction ends (ContractNotFound if there is no such contract). ``member``
    says whether the learner already belongs to the contract when the caller knows; otherwise
    it is looked up for ``user`` when a rule needs it, and a call without a user is about a
    newcomer. The checks, in this order:

    - ``members_only``: only a member passes (NOT_MEMBER);
    - ``free_only``: the contract must be free, no price or 0 (PRICED);
    - the contract is active (INACTIVE) and ``day`` (today by default) is inside its dates, both
      ends inclusive (OUTSIDE_DATES);
    - a capped contract has room for one more learner (FULL): its members, its open
      invitations and the newcomers at the payment page hold seats (``seats_taken``), except
      the invitation of ``code_id``, the code the learner brings, and ``user``'s own payment;
      members already count, so the cap never refuses them. With ``paid`` (a payment of
      ``user``'s was accepted), the other learners at the payment page do not count: their holds
      keep newcomers from reaching payment, not a paid learner from the seat; when a cap lowered
      below the payers leaves fewer seats than payments, the first payment to arrive has it.
    """
    if contract is None and contract_id is not None:
        contract = _read_contract(contract_id, lock=lock)
    elif contract is None or contract_id is not None:
        raise ValueError("give exactly one of contract and contract_id")

    known = member

    def is_member() -> bool:  # looked up at most once, and only when a rule needs it
        nonlocal known
        if known is None:
            known = user is not None and (
                ContractMembership.objects.filter(user=user, contract=contract).exists()
            )
        return known

    if members_only and not is_member():
        return AdmissionRefusal.NOT_MEMBER
    if free_only and not contract.is_free:
        return AdmissionRefusal.PRICED
    if not contract.active:
        return AdmissionRefusal.INACTIVE
    if not contract.is_open_on(day or timezone.localdate()):
        return AdmissionRefusal.OUTSIDE_DATES
    if (
        contract.max_learners is not None
        and not is_member()
        and seats_taken(contract, code_id=code_id, user=user, payers=not paid)
        >= contract.max_learners
    ):
        return AdmissionRefusal.FULL
    return None


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def cap_refusal(contract: ContractPage, *, cap: int | None) -> str | None:
    """Why ``cap`` cannot be the contract's cap, or None: a cap may not leave an open invitation
    without the seat it holds, so it is at least the members plus the open invitations when
    there are any (without open invitations, a cap below the members only stops newcomers). Two
    queries, none without a cap."""
    if cap is None:
        return None
    invited = open_invitations_of([contract.pk]).count()
    if not invited:
        return None
    members = ContractMembership.objects.filter(contract_id=contract.pk).count()
    held = members + invited
    if cap >= held:
        return None
    return (
        f"Contract {contract.title!r} has {_count(members, 'member')} and "
        f"{_count(invited, 'open invitation')}, which hold {held} seats: a cap of {cap} would "
        f"leave invitees without theirs. Revoke invitations first, or set a cap of at least "
        f"{held}."
    )


def seats_taken(
    contract: ContractPage,
    *,
    code_id: int | None = None,
    user: User | None = None,
    payers: bool = True,
) -> int:
    """The seats of a contract that are not free (one query):

    - its members;
    - its open invitations (each holds a seat for its invitee), but the one of code ``code_id``,
      the code being used;
    - the learners paying for one of its courses
      (``ecommerce.services.contract_codes.reads.paying_orders``: a pending order within the hold)
      who are
      not members and whose order's code is no open invitation's (that seat is counted already), but
      ``user``, the learner asking (and none without ``payers``).

    A learner at the payment page keeps the seat they are paying for: nobody else reaches
    payment for it, so an accepted payment always finds its seat (docs/architecture.md, "The
    seat invariant")."""
    held = open_invitations_of([contract.pk])
    if code_id is not None:
        held = held.exclude(code_id=code_id)
    members = ContractMembership.objects.filter(contract_id=contract.pk)
    paying = (
        paying_orders(contract.pk)
        .exclude(purchaser_id__in=members.values("user_id"))
        .exclude(
            discount_id__in=open_invitations_of([contract.pk])
            .filter(code_id__isnull=False)
            .values("code_id")
        )
    )
    if user is not None:
        paying = paying.exclude(purchaser=user)
    taken = _count_of(members, "contract_id") + _count_of(held, "contract_id")
    if payers:
        taken += _count_of(paying, "discount__b2b_contract_id", "purchaser_id")
    rows = ContractPage.objects.filter(pk=contract.pk).annotate(taken=taken)
    return next(iter(rows.values_list("taken", flat=True)), 0)


def _count_of(rows: QuerySet, group: str, distinct: str = "") -> Coalesce:
    """How many ``rows`` there are (of distinct ``distinct`` values, if given), as a scalar
    subquery grouped by ``group`` (0 for none)."""
    count = Count(distinct, distinct=True) if distinct else Count("pk")
    counted = rows.order_by().values(group).annotate(n=count).values("n")
    return Coalesce(Subquery(counted[:1]), 0)


def refusal_message(contract: ContractPage, reason: AdmissionRefusal) -> str:
    """The refusal as one line for staff and operators: "Contract 'NAME' is full (N learners)"."""
    message = f"Contract {contract.title!r} {reason.label}"
    if reason == AdmissionRefusal.FULL:
        message += f" ({contract.max_learners} learners)"
    return message


@transaction.atomic
def attach_learner(
    *, user: User, contract_id: int, source: str, created_by: User | None = None
) -> Attachment:
    """Attach ``user`` to the contract, or return their existing membership.

    Raises MembershipRefused when the contract is inactive, outside its dates, or full.
    """
    contract = _read_contract(contract_id, lock=True)
    existing = ContractMembership.objects.filter(user=user, contract=contract).first()
    if existing is not None:
        return Attachment(existing, created=False)
    # A purchase's membership comes with an accepted payment (ecommerce.services.payments).
    paid = source == MembershipSource.PURCHASE
    reason = admission_refusal(contract=contract, user=user, member=False, paid=paid)
    if reason is not None:
        message = refusal_message(contract, reason)
        log.warning("Refused to attach user %s to contract %s: %s", user.pk, contract.pk, message)
        raise MembershipRefused(message, reason=reason)
    membership = ContractMembership.objects.create(
        user=user, contract=contract, source=source, created_by=created_by
    )
    used = contract.memberships.count()  # exact: the contract's row is locked
    _record_members(contract, "b2b.membership.add", user, after=used, source=source)
    claim_alerts(
        contract_id=contract.pk, thresholds=seat_thresholds(used=used, cap=contract.max_learners)
    )
    return Attachment(membership, created=True)


def _record_members(
    contract: ContractPage, action: str, user: User, *, after: int, source: str = ""
) -> None:
    before = after - 1 if action == "b2b.membership.add" else after + 1
    details = {"learner": user.email, "learner_id": user.pk}
    if source:
        details["source"] = source
    record(
        contract, action, changes={"learners": {"before": before, "after": after}}, details=details
    )


@transaction.atomic
def detach_learner(*, user: User, contract_id: int) -> bool:
    """Remove the learner from the contract; returns whether they were attached."""
    contract = _read_contract(contract_id, lock=True)
    deleted, _ = ContractMembership.objects.filter(user=user, contract=contract).delete()
    if deleted:
        used = contract.memberships.count()
        _record_members(contract, "b2b.membership.remove", user, after=used)
    return bool(deleted)


# Memberships written per INSERT when learners are carried over to a renewal.
CARRY_BATCH_SIZE = 1000


def carry_members(*, source: ContractPage, target: ContractPage) -> int:
    """Attach every member of ``source`` to ``target`` (a renewal), as ``RENEWAL`` members;
    ``source`` keeps its own memberships, its record of who belonged to it. Returns how many
    were added.

    The caller holds both contracts locked (the lock order), so neither set of members moves
    meanwhile. Raises LearnersDoNotFit, adding nobody, when ``target``'s cap cannot hold its
    members and the newcomers. Two queries, plus one INSERT per ``CARRY_BATCH_SIZE`` learners.
    """
    already = ContractMembership.objects.filter(contract=target).values("user_id")
    user_ids = list(
        ContractMembership.objects.filter(contract=source)
        .exclude(user_id__in=already)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )
    cap = target.max_learners
    if cap is not None:
        members = target.memberships.count()
        if members + len(user_ids) > cap:
            raise LearnersDoNotFit(
                f"Contract {source.title!r} has {len(user_ids)} learners to carry over, "
                f"more than contract {target.title!r} has room for ({cap} learners, "
                f"{members} already members)"
            )
    ContractMembership.objects.bulk_create(
        [
            ContractMembership(user_id=user_id, contract=target, source=MembershipSource.RENEWAL)
            for user_id in user_ids
        ],
        batch_size=CARRY_BATCH_SIZE,
    )
    return len(user_ids)
