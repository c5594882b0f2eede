"""Helpers for invitation tests: a contract with products and its codes, invitations' rows."""

import secrets
from datetime import timedelta

from django.utils import timezone

from b2b.models import Invitation, InvitationEmail, InviteJob
from tests import factories as f
from tests.b2b.codes_helpers import contract_with_products, reconcile


def contract_with_codes(*, products=1, **terms):
    """A contract with ``products`` runs for sale and its codes made (reconciled)."""
    terms.setdefault("enrollment_fixed_price", "10.00")
    contract, made = contract_with_products(products=products, **terms)
    contract.refresh_from_db()
    reconcile(contract)
    return contract, made


def manager():
    return f.UserFactory()


def emails_of(contract, **filters):
    return sorted(
        Invitation.objects.filter(contract=contract, **filters).values_list("email", flat=True)
    )


def stall_invitation_work(contract, *, jobs=1, emails=1, minutes=60):
    """Invite jobs and invitation e-mails of ``contract`` queued ``minutes`` ago and never
    picked up (as when the broker refused them); returns (jobs, e-mails)."""
    then = timezone.now() - timedelta(minutes=minutes)
    made_jobs = [InviteJob.objects.create(contract=contract, rows=0) for _ in range(jobs)]
    InviteJob.objects.filter(pk__in=[j.pk for j in made_jobs]).update(
        created_on=then, queued_on=then
    )
    made_emails = []
    for _ in range(emails):
        invitation = Invitation.objects.create(
            contract=contract,
            email=f"stalled-{secrets.token_hex(4)}@example.com",
            token=secrets.token_urlsafe(32),
        )
        made_emails.append(
            InvitationEmail.objects.create(
                invitation=invitation, kind="invitation", to=invitation.email
            )
        )
    InvitationEmail.objects.filter(pk__in=[e.pk for e in made_emails]).update(
        queued_on=then, updated_on=then
    )
    return made_jobs, made_emails
