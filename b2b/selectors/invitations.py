"""Reads of invitations: the open ones (the one definition of "open"), their rows and pages for
managers, the invite jobs' outcome counts, the codes invitations set aside, and what an
invitation's link shows."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, OuterRef, QuerySet, Subquery

from b2b.enums import EmailState, InvitationState
from b2b.models import (
    Invitation,
    InvitationEmail,
    InviteJob,
    InviteJobRow,
    outcome_label,
)
from b2b.selectors.listings import ContractCourse, contract_courses
from ecommerce.services.contract_codes.reads import (
    active_products_by_run,
    code_product,
    code_redeemed,
    first_redemption,
)


def open_invitations_of(contract_ids: Iterable[int] | None) -> QuerySet[Invitation]:
    """The open invitations of these contracts (of every contract for None): stored open, and
    their code not redeemed yet (a learner who used it is a member now). The one definition of
    "open": the seats an invitation holds, what a manager may remind or revoke, the overview's
    pending count, the reminders due."""
    found = Invitation.objects.filter(state=InvitationState.OPEN).filter(~code_redeemed("code_id"))
    return found if contract_ids is None else found.filter(contract_id__in=list(contract_ids))


def invitations_in_state(contract_id: int, state: InvitationState | None) -> QuerySet[Invitation]:
    """The contract's invitations, all of them or those whose state (as ``invitation_rows``
    reads it: "open" is ``open_invitations_of``) is ``state``."""
    found = Invitation.objects.filter(contract_id=contract_id)
    if state is None:
        return found
    still_open = open_invitations_of([contract_id]).values("pk")
    if state == InvitationState.OPEN:
        return found.filter(pk__in=still_open)
    if state == InvitationState.REDEEMED:
        return found.exclude(state=InvitationState.REVOKED).exclude(pk__in=still_open)
    return found.filter(state=InvitationState.REVOKED)


def _open_invitation_counts(contract_ids: list[int]) -> dict[int, int]:
    rows = (
        open_invitations_of(contract_ids).values("contract_id").annotate(n=Count("pk")).order_by()
    )
    return {row["contract_id"]: row["n"] for row in rows}


@dataclass(frozen=True)
class InvitationPage:
    rows: tuple["InvitationRow", ...]
    total: int
    page: int
    pages: int


def contract_invitations(contract_id: int, *, page: int = 1, per_page: int = 50) -> InvitationPage:
    """One page of the contract's invitations, newest first (three queries)."""
    found = Invitation.objects.filter(contract_id=contract_id).order_by("-created_on", "-pk")
    total = found.count()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    ids = list(found.values_list("pk", flat=True)[(page - 1) * per_page : page * per_page])
    rows = invitation_rows(contract_id, invitation_ids=ids) if ids else []
    return InvitationPage(rows=tuple(rows), total=total, page=page, pages=pages)


@dataclass(frozen=True)
class OutcomeCount:
    outcome: str
    label: str
    count: int


def invite_job_summary(job: InviteJob) -> list[OutcomeCount]:
    """How many rows of the job ended in each result, most first (one query)."""
    counts = job.row_set.values("outcome").annotate(n=Count("pk")).order_by("-n", "outcome")
    return [
        OutcomeCount(outcome=c["outcome"], label=outcome_label(c["outcome"]), count=c["n"])
        for c in counts
    ]


def invite_job_summaries(job_ids: list[int]) -> dict[int, list[OutcomeCount]]:
    """``invite_job_summary`` of several jobs, by job id, in one query (the API's job list)."""
    counts = (
        InviteJobRow.objects.filter(job_id__in=job_ids)
        .values("job_id", "outcome")
        .annotate(n=Count("pk"))
        .order_by("job_id", "-n", "outcome")
    )
    found: dict[int, list[OutcomeCount]] = {job_id: [] for job_id in job_ids}
    for c in counts:
        found[c["job_id"]].append(
            OutcomeCount(outcome=c["outcome"], label=outcome_label(c["outcome"]), count=c["n"])
        )
    return found


@dataclass(frozen=True)
class InvitationRow:
    """An invitation as managers see it. ``state`` is "redeemed" as soon as its code is
    redeemed (by ``redeemed_by``, whatever address they used), before the periodic task stores
    it; ``email_state`` is the state of the last message sent about it."""

    id: int
    contract_id: int
    email: str
    name: str
    state: InvitationState
    code: str | None
    invited_by: str | None
    created_on: datetime
    reminders_sent: int
    last_reminded_on: datetime | None
    last_emailed_on: datetime | None
    revoked_on: datetime | None
    redeemed_by: str | None
    redeemed_on: datetime | None
    email_state: str | None
    email_error: str

    @property
    def email_state_label(self) -> str:
        """The last message's state in words ("Sent", "Retrying", ...); "" before any."""
        return str(EmailState(self.email_state).label) if self.email_state else ""


def _effective_state(stored: str, redeemer_email: str | None) -> InvitationState:
    """The state as ``open_invitations_of`` reads it, for a row annotated with its code's first
    redemption: a stored "open" whose code was redeemed is "redeemed"."""
    if stored == InvitationState.OPEN and redeemer_email is not None:
        return InvitationState.REDEEMED
    return InvitationState(stored)


def invitation_rows(
    contract_id: int, *, invitation_ids: list[int] | None = None
) -> list[InvitationRow]:
    """The contract's invitations, newest first, with their redemption and last e-mail (one
    query)."""
    last_email = InvitationEmail.objects.filter(invitation_id=OuterRef("pk")).order_by("-pk")
    found = Invitation.objects.filter(contract_id=contract_id)
    if invitation_ids is not None:
        found = found.filter(pk__in=invitation_ids)
    redemption = first_redemption("code_id")
    found = found.annotate(
        redeemer_email=redemption["redeemer_email"],
        redeemed_at=redemption["redeemed_at"],
        code_text=F("code__discount_code"),
        inviter=F("invited_by__email"),
        email_state=Subquery(last_email.values("state")[:1]),
        email_error=Subquery(last_email.values("last_error")[:1]),
    ).order_by("-created_on", "-pk")
    return [
        InvitationRow(
            id=i.pk,
            contract_id=i.contract_id,
            email=i.email,
            name=i.name,
            state=_effective_state(i.state, i.redeemer_email),
            code=i.code_text,
            invited_by=i.inviter,
            created_on=i.created_on,
            reminders_sent=i.reminders_sent,
            last_reminded_on=i.last_reminded_on,
            last_emailed_on=i.last_emailed_on,
            revoked_on=i.revoked_on,
            redeemed_by=i.redeemer_email,
            redeemed_on=i.redeemed_at,
            email_state=i.email_state,
            email_error=i.email_error or "",
        )
        for i in found
    ]


@dataclass(frozen=True)
class InvitationTarget:
    """Where an invitation's link leads: its state, the contract it opens (every course of it,
    what the learner pays), and for an open one the cart address with the code."""

    state: InvitationState
    organization: str
    contract: str
    product_id: int | None
    code: str | None
    contract_id: int = 0
    price: Decimal | None = None  # per course; None for a free contract
    courses: tuple[ContractCourse, ...] = ()
    first_course: str = ""  # the course the code is for: the one the accept button buys
    progress_visibility: str = ""  # what the organization sees of the learner's progress

    @property
    def free(self) -> bool:
        return self.price is None


def invitation_target(token: str) -> InvitationTarget | None:
    """The invitation whose link carries ``token``, or None; with the contract's courses
    (four queries)."""
    redemption = first_redemption("code_id")
    invitation = (
        Invitation.objects.filter(token=token)
        .select_related("contract")
        .annotate(
            redeemer_email=redemption["redeemer_email"],
            code_text=F("code__discount_code"),
            code_active=F("code__is_active"),
            product_id=code_product("code_id"),
        )
        .first()
    )
    if invitation is None:
        return None
    state = _effective_state(invitation.state, invitation.redeemer_email)
    if state == InvitationState.OPEN and not invitation.code_active:
        state = InvitationState.REVOKED  # its code was withdrawn (the contract's terms changed)
    contract = invitation.contract
    courses = contract_courses(contract.pk)
    products = active_products_by_run([course.run_id for course in courses])
    first = next(
        (
            c.title
            for c in courses
            if (p := products.get(c.run_id)) and p.id == invitation.product_id
        ),
        "",
    )
    return InvitationTarget(
        state=state,
        organization=contract.organization.title,
        contract=contract.title,
        product_id=invitation.product_id,
        code=invitation.code_text,
        contract_id=contract.pk,
        price=None if contract.is_free else contract.price,
        courses=tuple(courses),
        first_course=first,
        progress_visibility=contract.progress_visibility,
    )


def invitation_code_ids(contract_id: int) -> QuerySet[Invitation, int]:
    """The ids of the codes the contract's invitations were given (a query, not run here): the
    pool's reconciliation leaves them alone. An open invitation's code is its invitee's (never
    deactivated, counted as held); a revoked one's is withdrawn for good (never reactivated,
    whatever the cap does later); a redeemed one's is redeemed."""
    return Invitation.objects.filter(contract_id=contract_id, code__isnull=False).values_list(
        "code_id", flat=True
    )


def open_invitations(contract_id: int) -> QuerySet[Invitation]:
    """The contract's open invitations whose code nobody has redeemed yet: the seats they hold
    (``b2b.selectors.invitations.open_invitations_of``, the one definition)."""
    return open_invitations_of([contract_id])


# A bulk invitation job's results, as the pages, the API and the results CSV show them.
RESULTS_HEADER = ["Line", "E-mail", "Name", "Result"]
RESULTS_CHUNK = 1000


def job_progress(job: InviteJob) -> dict[str, object]:
    """A job's progress, the one shape both the job page's poll and the API's job resource
    carry: its state, its rows, how many are done of how many, and whether it finished."""
    return {
        "state": job.state,
        "rows": job.rows,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "finished": job.finished,
    }


def job_rows(job: InviteJob) -> QuerySet[InviteJobRow]:
    return job.row_set.order_by("position")


def iter_result_rows(job: InviteJob) -> Iterator[list[str]]:
    """The results CSV's rows, header first (chunks of RESULTS_CHUNK rows, one query each)."""
    yield RESULTS_HEADER
    after = -1
    while True:
        chunk = list(job.row_set.filter(position__gt=after).order_by("position")[:RESULTS_CHUNK])
        if not chunk:
            return
        for row in chunk:
            yield [str(row.line), row.email, row.name, outcome_label(row.outcome)]
        after = chunk[-1].position
