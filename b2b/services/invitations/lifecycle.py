"""An invitation after it is sent: reminded (with a cooldown), revoked (refused while its code is
in a cart or a pending order), and closed when its code is redeemed (``sync_redeemed``, run by
the periodic task with the due reminders). Each change takes the contract's lock
(``b2b.services.locking``) as inviting does."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from b2b.enums import InvitationEmailKind, InvitationState
from b2b.exceptions import InvitationInUse, InvitationNotOpen, RemindTooSoon
from b2b.models import ContractPage, Invitation
from b2b.selectors.invitations import open_invitations, open_invitations_of
from b2b.services.audit import record
from b2b.services.invitations.emails import queue_emails
from b2b.services.locking import ContractLock, lock_contract
from config.throttling import describe_wait
from ecommerce.services.contract_codes import invitations as invitation_codes
from ecommerce.services.contract_codes.reads import code_redeemed, first_redemption
from users.models import User

# The registered name of the periodic task that stores redemptions and sends due reminders.
REMINDER_TASK = "b2b.send_invitation_reminders"


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
