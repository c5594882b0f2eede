"""How many invitation and withdrawal e-mails one address may receive.

Inviting an address and revoking the invitation sends two e-mails; repeated, it would flood the
address from the site's mail server. So within any 24 hours an address receives at most
``B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT`` of these e-mails about one contract and
``B2B_INVITATION_EMAILS_PER_ADDRESS_PER_DAY`` about all contracts together, whichever manager or
channel (page, API, CSV job, command) sends them. Past the limit, inviting the address is
refused (``InviteOutcome.EMAIL_LIMIT``) and a withdrawal is made without its e-mail
(``invitation_emails.queue_emails``). Reminders have their own limit: the cooldown of each
invitation.

Every message queued counts, whatever became of it. The check is made under the contract's row
lock, so the per-contract limit holds exactly; two contracts e-mailing one address at the same
moment may each count before the other's message is recorded.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from b2b.enums import InvitationEmailKind
from b2b.models import InvitationEmail

WINDOW = timedelta(hours=24)
COUNTED = (InvitationEmailKind.INVITATION, InvitationEmailKind.REVOKE)


def addresses_at_limit(
    *, contract_id: int, emails: Iterable[str], now: datetime | None = None
) -> set[str]:
    """Of ``emails`` (lower-case), those that may receive no more invitation or withdrawal
    e-mail about the contract now (one query)."""
    wanted = sorted(set(emails))
    if not wanted:
        return set()
    since = (now or timezone.now()) - WINDOW
    rows = (
        InvitationEmail.objects.filter(to__in=wanted, kind__in=COUNTED, queued_on__gt=since)
        .values_list("to")
        .annotate(
            total=Count("pk"), here=Count("pk", filter=Q(invitation__contract_id=contract_id))
        )
        .order_by()
    )
    per_contract = settings.B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT
    per_day = settings.B2B_INVITATION_EMAILS_PER_ADDRESS_PER_DAY
    return {to for to, total, here in rows if here >= per_contract or total >= per_day}
