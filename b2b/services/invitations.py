"""Invitations by e-mail to join a contract, handed out by the organization's managers.

Each invitation sets aside one enrollment code: an unused code of the contract's pool for a
capped contract, or a personal one-time code made for it for an uncapped one
(``ecommerce.services.invitation_codes``). Its link (``/invitations/<token>/``) takes the learner
to the product's cart address with the code ready to apply.

The seat rule: a capped contract never has more members plus open invitations than its cap. It
is checked under the contract's row lock (``b2b.services.locking``, level 3), the lock every
attachment of a learner takes too, so two managers inviting the last seats at once take turns.
An invitation stays "open" until its code is redeemed (read from the redemption records, which
every way in writes: checkout and the API's attach both fulfil an order) or it is revoked.

Batches (``invite_many``) run a constant number of queries per batch of
``B2B_INVITATION_BATCH_SIZE`` rows, each batch in its own transaction. Every action is recorded
in the contract's audit trail; e-mails are queued after commit (``invitation_emails``).
"""

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from b2b.enums import InvitationEmailKind, InvitationState, InviteOutcome
from b2b.exceptions import InvitationInUse, InvitationNotOpen, InvitationRefused, RemindTooSoon
from b2b.models import ContractMembership, ContractPage, Invitation
from b2b.selectors import open_invitations_of
from b2b.services.audit import record
from b2b.services.codes import code_stamp, contract_product_ids
from b2b.services.email_limits import addresses_at_limit
from b2b.services.invitation_emails import queue_emails
from b2b.services.locking import ContractLock, lock_contract
from b2b.services.memberships import seats_taken
from config.throttling import describe_wait
from ecommerce.services import invitation_codes
from ecommerce.services.contract_codes import code_redeemed, first_redemption
from users.models import User

Progress = Callable[[str, int, int], None]  # (step, done, total)
BatchDone = Callable[[list["InviteResult"]], None]  # a batch's results, before it commits

TOKEN_BYTES = 32

# The registered name of the periodic task that stores redemptions and sends due reminders.
REMINDER_TASK = "b2b.send_invitation_reminders"


@dataclass(frozen=True)
class InviteRow:
    """One person to invite: an e-mail address as typed, and an optional name."""

    email: str
    name: str = ""


@dataclass(frozen=True)
class InviteResult:
    """What became of one row (``row`` counts from 1, in the order given)."""

    row: int
    email: str
    name: str
    outcome: InviteOutcome
    invitation_id: int | None = None


def normalize_email(raw: str) -> str | None:
    """The address stripped and lower-cased, or None when it is not a valid e-mail address."""
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def open_invitations(contract_id: int) -> QuerySet[Invitation]:
    """The contract's open invitations whose code nobody has redeemed yet: the seats they hold
    (``b2b.selectors.open_invitations_of``, the one definition)."""
    return open_invitations_of([contract_id])


def seats_left(contract: ContractPage) -> int | None:
    """Seats a capped contract still has for new invitations (cap - members - open
    invitations, never below 0); None for an uncapped contract. Two queries."""
    if contract.max_learners is None:
        return None
    return max(contract.max_learners - seats_taken(contract), 0)


def invite(*, contract: ContractPage, email: str, name: str = "", by: User | None) -> Invitation:
    """Invite one person; raises InvitationRefused (``outcome`` says why: invalid e-mail,
    already a member, already invited, e-mailed too often lately, no seats left)."""
    (result,) = invite_many(contract=contract, rows=[InviteRow(email, name)], by=by)
    if result.outcome != InviteOutcome.INVITED:
        raise InvitationRefused(
            f"{email.strip()!r} was not invited: {result.outcome.label}", outcome=result.outcome
        )
    return Invitation.objects.get(pk=result.invitation_id or 0)


def invite_many(
    *,
    contract: ContractPage,
    rows: Sequence[InviteRow],
    by: User | None,
    progress: Progress | None = None,
    on_batch: BatchDone | None = None,
) -> list[InviteResult]:
    """Invite everyone in ``rows``; one result per row, in order. A constant number of queries
    per batch of ``B2B_INVITATION_BATCH_SIZE`` rows, each batch committed on its own;
    ``on_batch`` gets each batch's results inside its transaction (a caller that stores them
    there keeps them exactly when the invitations are kept)."""
    results: list[InviteResult | None] = [None] * len(rows)
    seen: set[str] = set()
    pending: list[tuple[int, str, str]] = []  # (index, email, name) still to decide
    for index, row in enumerate(rows):
        email = normalize_email(row.email)
        name = " ".join((row.name or "").split())[:255]  # one line: it goes into e-mails
        if email is None:
            results[index] = InviteResult(
                index + 1, row.email.strip(), name, InviteOutcome.INVALID_EMAIL
            )
        elif email in seen:
            results[index] = InviteResult(index + 1, email, name, InviteOutcome.DUPLICATE)
        else:
            seen.add(email)
            pending.append((index, email, name))
    size = max(settings.B2B_INVITATION_BATCH_SIZE, 1)
    for start in range(0, len(pending), size):
        batch = pending[start : start + size]
        for index, result in _invite_batch(contract.pk, batch, by, on_batch):
            results[index] = result
        if progress:
            progress("Inviting", min(start + size, len(pending)), len(pending))
    return [result for result in results if result is not None]


def _known_emails(contract_id: int, emails: list[str]) -> tuple[set[str], set[str]]:
    """Of ``emails``: those of the contract's members, and those with an open invitation."""
    members = set(
        ContractMembership.objects.filter(contract_id=contract_id)
        .annotate(address=Lower("user__email"))
        .filter(address__in=emails)
        .values_list("address", flat=True)
    )
    invited = set(
        Invitation.objects.filter(
            contract_id=contract_id, state=InvitationState.OPEN, email__in=emails
        ).values_list("email", flat=True)
    )
    return members, invited


def _codes_for(contract: ContractPage, count: int) -> list[invitation_codes.InvitationCode]:
    if contract.max_learners is None:
        product_ids = contract_product_ids(contract.pk)
        if not product_ids or count <= 0:
            return []
        return invitation_codes.create_personal_codes(
            contract_id=contract.pk,
            product_id=product_ids[0],
            count=count,
            stamp=code_stamp(contract),
        )
    taken = min(count, seats_left(contract) or 0)
    set_aside = Invitation.objects.filter(contract_id=contract.pk, code__isnull=False)
    return invitation_codes.take_unused_codes(
        contract_id=contract.pk, count=taken, set_aside=set_aside.values("code_id")
    )


@transaction.atomic
def _invite_batch(
    contract_id: int,
    batch: list[tuple[int, str, str]],
    by: User | None,
    on_batch: BatchDone | None = None,
) -> list[tuple[int, InviteResult]]:
    contract = lock_contract(contract_id, mode=ContractLock.CHANGE)
    addresses = [email for _, email, _ in batch]
    members, invited = _known_emails(contract_id, addresses)
    at_limit = addresses_at_limit(contract_id=contract_id, emails=addresses)
    out: list[tuple[int, InviteResult]] = []
    wanted: list[tuple[int, str, str]] = []
    for index, email, name in batch:
        if email in members:
            out.append((index, InviteResult(index + 1, email, name, InviteOutcome.ALREADY_MEMBER)))
        elif email in invited:
            out.append((index, InviteResult(index + 1, email, name, InviteOutcome.ALREADY_INVITED)))
        elif email in at_limit:
            out.append((index, InviteResult(index + 1, email, name, InviteOutcome.EMAIL_LIMIT)))
        else:
            wanted.append((index, email, name))
    codes = _codes_for(contract, len(wanted))
    now = timezone.now()
    invitations = Invitation.objects.bulk_create(
        [
            Invitation(
                contract_id=contract_id,
                email=email,
                name=name,
                code_id=code.id,
                token=secrets.token_urlsafe(TOKEN_BYTES),
                invited_by=by,
                last_emailed_on=now,
            )
            for (_, email, name), code in zip(wanted, codes, strict=False)
        ]
    )
    for (index, email, name), invitation in zip(wanted, invitations, strict=False):
        out.append(
            (index, InviteResult(index + 1, email, name, InviteOutcome.INVITED, invitation.pk))
        )
    for index, email, name in wanted[len(invitations) :]:
        out.append((index, InviteResult(index + 1, email, name, InviteOutcome.NO_SEATS)))
    if invitations:
        queue_emails(invitations, InvitationEmailKind.INVITATION)
        record(
            contract,
            "b2b.invitation.send",
            details={"emails": [i.email for i in invitations], "count": len(invitations)},
        )
    if on_batch:
        on_batch([result for _, result in out])
    return out


def _lock_open(invitation: Invitation) -> tuple[ContractPage, Invitation]:
    contract = lock_contract(invitation.contract_id, mode=ContractLock.CHANGE)
    current = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not open_invitations(contract.pk).filter(pk=current.pk).exists():
        raise InvitationNotOpen(f"The invitation of {current.email} is no longer open")
    return contract, current


def _cooldown() -> timedelta:
    return timedelta(seconds=settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS)


class Emailed(Protocol):
    """An invitation, or a listing's row of one: when its last e-mail was delivered (or queued
    while still on its way)."""

    @property
    def last_emailed_on(self) -> datetime | None: ...


def remind_wait(invitation: Emailed, *, now: datetime | None = None) -> float:
    """Seconds before the invitation may be reminded (0: now): the cooldown runs from its last
    invitation or reminder e-mail delivered, or still on its way (``last_emailed_on``); one
    that never arrived (failed) does not count. The rule's one definition for one invitation;
    ``_out_of_cooldown`` is the same rule for a set."""
    if invitation.last_emailed_on is None:
        return 0.0
    ready = invitation.last_emailed_on + _cooldown()
    return max((ready - (now or timezone.now())).total_seconds(), 0.0)


def _out_of_cooldown(now: datetime) -> Q:
    """The invitations that may be reminded at ``now``: nothing delivered or on its way, or
    last e-mailed at least the cooldown ago."""
    return Q(last_emailed_on__isnull=True) | Q(last_emailed_on__lte=now - _cooldown())


@transaction.atomic
def remind(*, invitation: Invitation, by: User | None) -> Invitation:
    """Send the invitation again (a reminder); raises InvitationNotOpen when it was redeemed or
    revoked, RemindTooSoon when it was e-mailed less than the cooldown ago (the check is made
    under the invitation's row lock, so two clicks at once send one reminder)."""
    contract, current = _lock_open(invitation)
    now = timezone.now()
    wait = remind_wait(current, now=now)
    if wait > 0:
        raise RemindTooSoon(
            f"{current.email} was e-mailed less than {describe_wait(_cooldown().total_seconds())} "
            f"ago; it can be reminded again in {describe_wait(wait)}",
            wait_seconds=wait,
        )
    current.reminders_sent += 1
    current.last_reminded_on = current.last_emailed_on = now
    current.save(update_fields=["reminders_sent", "last_reminded_on", "last_emailed_on"])
    queue_emails([current], InvitationEmailKind.REMINDER)
    record(contract, "b2b.invitation.remind", details={"emails": [current.email], "count": 1})
    return current


def _remind_set(contract: ContractPage, invitations: QuerySet[Invitation], now: datetime) -> int:
    """Remind those of ``invitations`` out of their cooldown (the caller holds the contract's
    lock); returns how many."""
    chosen = list(
        invitations.filter(_out_of_cooldown(now)).select_for_update(of=("self",)).order_by("pk")
    )
    if not chosen:
        return 0
    Invitation.objects.filter(pk__in=[i.pk for i in chosen]).update(
        reminders_sent=F("reminders_sent") + 1, last_reminded_on=now, last_emailed_on=now
    )
    queue_emails(chosen, InvitationEmailKind.REMINDER)
    record(
        contract,
        "b2b.invitation.remind",
        details={"emails": [i.email for i in chosen], "count": len(chosen)},
    )
    return len(chosen)


@dataclass(frozen=True)
class RemindAllResult:
    """What "remind everyone" did: how many were reminded, how many were left alone because
    they were e-mailed less than the cooldown ago."""

    reminded: int
    in_cooldown: int


@transaction.atomic
def remind_all_open(*, contract: ContractPage, by: User | None) -> RemindAllResult:
    """Remind every open invitation of the contract that is out of its cooldown (constant
    queries)."""
    locked = lock_contract(contract.pk, mode=ContractLock.CHANGE)
    now = timezone.now()
    open_ones = open_invitations(contract.pk)
    waiting = open_ones.exclude(_out_of_cooldown(now)).count()
    reminded = _remind_set(locked, open_ones, now)
    return RemindAllResult(reminded=reminded, in_cooldown=waiting)


def _refuse_while_in_use(contract: ContractPage, current: Invitation) -> None:
    """Raise InvitationInUse when a learner is using the invitation's code: paying with it (a
    pending order within the hold) or holding it in a cart. Called under the contract's lock,
    after which the code's row is locked (the lock order): a checkout or receipt either
    committed before and its hold is seen here, or comes after and finds the code inactive."""
    if current.code_id is None:
        return
    use = invitation_codes.lock_code_use(contract_id=contract.pk, code_id=current.code_id)
    if use is None:
        return
    wait = max((use.until - timezone.now()).total_seconds(), 0.0)
    if use.paying:
        message = (
            f"{current.email} is paying with this invitation right now; try again once the "
            f"payment is settled (in {describe_wait(wait)} at most)"
        )
    else:
        message = (
            f"{current.email} has this invitation's code in a cart right now; try again in "
            f"{describe_wait(wait)} at most"
        )
    raise InvitationInUse(message, wait_seconds=wait)


@transaction.atomic
def revoke(*, invitation: Invitation, by: User | None) -> Invitation:
    """Withdraw an open invitation: its code is deactivated and, for a capped contract, a fresh
    code takes its place in the pool; the link then says it was withdrawn and the invitee gets
    an e-mail saying so (after commit). Raises InvitationNotOpen, and InvitationInUse while a
    learner pays with the code or holds it in a cart: nothing is changed or sent then, so nobody
    about to become a member is told the invitation was withdrawn, and the pool never gains a
    code while the old one may still be redeemed."""
    contract, current = _lock_open(invitation)
    _refuse_while_in_use(contract, current)
    if current.code_id is not None:
        invitation_codes.retire_codes(
            contract_id=contract.pk,
            code_ids=[current.code_id],
            replace=contract.max_learners is not None,
        )
    current.state = InvitationState.REVOKED
    current.revoked_on = timezone.now()
    current.revoked_by = by
    current.save(update_fields=["state", "revoked_on", "revoked_by"])
    queue_emails([current], InvitationEmailKind.REVOKE)
    record(contract, "b2b.invitation.revoke", details={"email": current.email})
    return current


def sync_redeemed(*, contract_ids: Iterable[int] | None = None) -> int:
    """Store "redeemed" (by whom, when) on the open invitations whose code has been redeemed,
    and record it in each contract's audit trail; returns how many. Reads already derive the
    state from the redemption records, so this only makes it permanent and audited."""
    found = Invitation.objects.filter(state=InvitationState.OPEN).filter(code_redeemed("code_id"))
    if contract_ids is not None:
        found = found.filter(contract_id__in=list(contract_ids))
    redemption = first_redemption("code_id")
    rows = list(
        found.annotate(
            redeemer_id=redemption["redeemer_id"],
            redeemer_email=redemption["redeemer_email"],
            redeemed_at=redemption["redeemed_at"],
        ).select_related("contract")
    )
    by_contract: dict[int, list[tuple[str, str]]] = {}
    with transaction.atomic():
        for invitation in rows:
            invitation.state = InvitationState.REDEEMED
            invitation.redeemed_by_id = invitation.redeemer_id
            invitation.redeemed_on = invitation.redeemed_at
            pair = (invitation.email, invitation.redeemer_email)
            by_contract.setdefault(invitation.contract_id, []).append(pair)
        Invitation.objects.bulk_update(rows, ["state", "redeemed_by", "redeemed_on"])
        contracts = {row.contract_id: row.contract for row in rows}
        for contract_id, pairs in by_contract.items():
            record(
                contracts[contract_id],
                "b2b.invitation.redeem",
                details={
                    "emails": [email for email, _ in pairs],
                    "redeemed_by": [redeemer for _, redeemer in pairs],
                },
            )
    return len(rows)


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Remind the open invitations last sent (or reminded) at least B2B_INVITATION_REMINDER_DAYS
    ago that have had fewer than B2B_INVITATION_MAX_REMINDERS reminders; returns how many. The
    periodic task runs it (after ``sync_redeemed``)."""
    now = now or timezone.now()
    due_before = now - timedelta(days=settings.B2B_INVITATION_REMINDER_DAYS)
    due = (
        open_invitations_of(None)
        .filter(reminders_sent__lt=settings.B2B_INVITATION_MAX_REMINDERS)
        .filter(
            Q(last_reminded_on__isnull=True, created_on__lte=due_before)
            | Q(last_reminded_on__lte=due_before)
        )
    )
    total = 0
    for contract_id in sorted(set(due.values_list("contract_id", flat=True))):
        with transaction.atomic():
            contract = lock_contract(contract_id, mode=ContractLock.CHANGE)
            total += _remind_set(contract, due.filter(contract_id=contract_id), now)
    return total
