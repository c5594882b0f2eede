"""Invitations by e-mail to join a contract, handed out by the organization's managers.

Each invitation sets aside one enrollment code: an unused code of the contract's pool for a
capped contract, or a personal one-time code made for it for an uncapped one
(``ecommerce.services.contract_codes.invitations``). Its link (``/invitations/<token>/``) takes the
learner
to the product's cart address with the code ready to apply.

The seat rule: a capped contract never has more members plus open invitations than its cap. It
is checked under the contract's row lock (``b2b.services.locking``, level 3), the lock every
attachment of a learner takes too, so two managers inviting the last seats at once take turns.
An invitation stays "open" until its code is redeemed (read from the redemption records, which
every way in writes: checkout and the API's attach both fulfil an order) or it is revoked.

Batches (``invite_many``) run a constant number of queries per batch of
``B2B_INVITATION_BATCH_SIZE`` rows, each batch in its own transaction. Every action is recorded
in the contract's audit trail; e-mails are queued after commit (``invitation_emails``)."""

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from b2b.enums import InvitationEmailKind, InvitationState, InviteOutcome
from b2b.exceptions import InvitationRefused
from b2b.models import ContractMembership, ContractPage, Invitation
from b2b.services.audit import record
from b2b.services.code_terms import code_stamp, contract_product_ids
from b2b.services.invitations.email_limits import addresses_at_limit
from b2b.services.invitations.emails import queue_emails
from b2b.services.locking import ContractLock, lock_contract
from b2b.services.memberships import seats_taken
from ecommerce.services.contract_codes import invitations as invitation_codes
from users.models import User

Progress = Callable[[str, int, int], None]  # (step, done, total)
BatchDone = Callable[[list["InviteResult"]], None]  # a batch's results, before it commits

TOKEN_BYTES = 32


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
