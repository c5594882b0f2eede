"""Domain errors of the B2B services. Each message is one line an operator can act on."""

from b2b.enums import AdmissionRefusal


class B2BError(Exception):
    """Base class: the request cannot be carried out; nothing was changed."""


class OrganizationNotFound(B2BError):
    pass


class OrganizationConflict(B2BError):
    pass


class ContractNotFound(B2BError):
    pass


class InvalidContractTerms(B2BError):
    pass


class DuplicateContract(B2BError):
    """The organization already has a contract of that name."""


class CoursewareNotFound(B2BError):
    pass


class CoursewareConflict(B2BError):
    """The courseware cannot be attached as asked (run of another contract, key collision...)."""


class NoSourceRun(CoursewareConflict):
    """A course has no run to copy for a contract run: its source run must be imported first,
    or the course attached without runs."""


class MembershipRefused(B2BError):
    """A learner cannot be attached to a contract (inactive, outside its dates, or full).

    ``reason`` says which rule refused; the message says it to staff.
    """

    def __init__(self, message: str, *, reason: AdmissionRefusal):
        super().__init__(message)
        self.reason = reason
