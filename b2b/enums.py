from django.db import models


class IntegrationType(models.TextChoices):
    SSO = "sso", "SSO"
    NON_SSO = "non-sso", "Non-SSO"


class MembershipSource(models.TextChoices):
    """How a learner came to be attached to a contract."""

    SSO = "sso", "Single sign-on"
    CODE = "code", "Enrollment code"
    PURCHASE = "purchase", "Purchase"
    STAFF = "staff", "Staff"


class AdmissionRefusal(models.TextChoices):
    """Why a learner cannot join, or as a member use, a contract now (``admission_refusal``).

    The label finishes the sentence "Contract 'NAME' ..." for staff and operators; the cart and
    the dashboard map each reason to a sentence of their own for the learner.
    """

    NOT_MEMBER = "not-member", "does not include this learner"
    PRICED = "priced", "has a price"
    INACTIVE = "inactive", "is not active"
    OUTSIDE_DATES = "outside-dates", "is outside its dates"
    FULL = "full", "is full"


class InviteJobState(models.TextChoices):
    """Where a manager's upload of people to invite stands."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class InvitationState(models.TextChoices):
    """Where an invitation to a contract stands. "Redeemed" is also read from the code's
    redemption records (``b2b.selectors``), so it shows before the periodic task stores it."""

    OPEN = "open", "Open"
    REDEEMED = "redeemed", "Redeemed"
    REVOKED = "revoked", "Revoked"


class InvitationEmailKind(models.TextChoices):
    INVITATION = "invitation", "Invitation"
    REMINDER = "reminder", "Reminder"
    REVOKE = "revoke", "Withdrawn"


class EmailState(models.TextChoices):
    """What became of one e-mail message."""

    QUEUED = "queued", "Queued"
    RETRYING = "retrying", "Retrying"  # a transient failure (4xx, connection): tried again later
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # refused for good (5xx), or out of retries


class InviteOutcome(models.TextChoices):
    """One row's result in an invitation batch."""

    INVITED = "invited", "invited"
    ALREADY_MEMBER = "already-member", "already a member"
    ALREADY_INVITED = "already-invited", "already invited"
    INVALID_EMAIL = "invalid-email", "invalid e-mail"
    DUPLICATE = "duplicate", "duplicate in file"
    NO_SEATS = "no-seats", "no seats left"
