"""Domain errors of the B2B services. Each message is one line an operator can act on."""

from typing import TYPE_CHECKING

from b2b.enums import AdmissionRefusal
from config.errors import DomainError

if TYPE_CHECKING:
    from b2b.models import OrganizationPage


class B2BError(DomainError):
    """Base class: the request cannot be carried out; nothing was changed."""


class OrganizationNotFound(B2BError):
    http_status = 404


class OrganizationConflict(B2BError):
    pass


class OrganizationExists(OrganizationConflict):
    """An organization already has this name, up to case and spacing: ``organization``."""

    def __init__(self, message: str, *, organization: "OrganizationPage"):
        super().__init__(message)
        self.organization = organization


class ContractNotFound(B2BError):
    http_status = 404


class InvalidContractTerms(B2BError):
    http_status = 400


class TooManyCodes(InvalidContractTerms):
    """The change would give the contract more enrollment codes than it may hold
    (B2B_MAX_CODES_PER_CONTRACT)."""


class DuplicateContract(B2BError):
    """The organization already has a contract of that name."""


class LearnersDoNotFit(B2BError):
    """A renewal's cap cannot hold the learners to carry over to it."""


class CoursewareNotFound(B2BError):
    http_status = 404


class ContractFileError(B2BError):
    """A contract description (``b2b_contract export``'s JSON) cannot be read or imported."""


class CoursewareConflict(B2BError):
    """The courseware cannot be attached as asked (run of another contract, key collision...)."""


class NoSourceRun(CoursewareConflict):
    """A course has no run to copy for a contract run: its source run must be imported first,
    or the course attached without runs."""


class CodesFileError(B2BError):
    """The codes CSV cannot be written where asked; no file was written."""


class CodesFileExists(CodesFileError):
    """The codes CSV's target already exists and was not to be replaced."""


class MembershipRefused(B2BError):
    """A learner cannot be attached to a contract (inactive, outside its dates, or full).

    ``reason`` says which rule refused; the message says it to staff.
    """

    def __init__(self, message: str, *, reason: AdmissionRefusal):
        super().__init__(message)
        self.reason = reason


class UploadRefused(B2BError):
    """An uploaded file of people to invite cannot be read (too large, not UTF-8 text, not CSV,
    no e-mail column, too many rows); the message says what to do."""

    http_status = 400


class UserNotFound(B2BError):
    """No user has this e-mail address."""


class NotAManager(B2BError):
    """The user does not manage this organization (or contract)."""


class InvitationRefused(B2BError):
    """An invitation cannot be made: ``outcome`` is the ``InviteOutcome`` that says why."""

    def __init__(self, message: str, *, outcome: str):
        super().__init__(message)
        self.outcome = outcome

    def api_details(self) -> dict[str, object]:
        return {"outcome": str(self.outcome)}


class InvitationNotOpen(B2BError):
    """The invitation was already redeemed or revoked."""


class _TryLater(B2BError):
    """A refusal that lapses by itself: ``wait_seconds`` until the request may succeed (the API's
    Retry-After)."""

    def __init__(self, message: str, *, wait_seconds: float):
        super().__init__(message)
        self.wait_seconds = wait_seconds


class RemindTooSoon(_TryLater):
    """The invitation was e-mailed (invited or reminded) less than
    B2B_INVITATION_REMIND_COOLDOWN_SECONDS ago: ``wait_seconds`` until it may be reminded."""

    http_status = 429


class InvitationInUse(_TryLater):
    """The invitation cannot be revoked now: a learner is using its code (paying with it, or
    holding it in a cart); ``wait_seconds`` until that hold lapses at most."""


class RefreshTooSoon(_TryLater):
    """A refresh of the contract's progress was asked for less than
    B2B_PROGRESS_REFRESH_SECONDS ago: ``wait_seconds`` until the next may be."""

    http_status = 429


class ProgressHidden(B2BError):
    """The contract shows its managers aggregates only: no learner one by one."""

    http_status = 403


class NotAContractRun(B2BError):
    """The course run belongs to no contract: it has no contract progress."""


class NothingToNudge(B2BError):
    """A nudge was asked for with no learner selected."""

    http_status = 400
