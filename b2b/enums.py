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
    RENEWAL = "renewal", "Carried over from the contract it renews"


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


class ContractState(models.TextChoices):
    """Where a contract stands on a given day (``ContractPage.state_on``, and
    ``ContractPage.objects.in_state`` for a set): deactivated, not started yet, past its last
    day, or running."""

    ACTIVE = "active", "Active"
    SCHEDULED = "scheduled", "Scheduled"
    ENDED = "ended", "Ended"
    INACTIVE = "inactive", "Inactive"


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
    # the address had its share of invitation and withdrawal e-mails
    # (b2b.services.invitations.email_limits)
    EMAIL_LIMIT = "email-limit", "e-mailed too often lately; try again tomorrow"


class ProgressVisibility(models.TextChoices):
    """What a contract's managers may see of its learners' outcomes."""

    PER_LEARNER = "per-learner", "Per learner"
    AGGREGATES = "aggregates", "Aggregates only (groups under 5 learners hidden)"


class ProgressSyncState(models.TextChoices):
    """Where a run's progress sync stands."""

    IDLE = "idle", "Idle"
    RUNNING = "running", "Running"
    FAILED = "failed", "Failed"


class ProgressPhase(models.TextChoices):
    """The part of Open edX a run's sweep is reading."""

    ENROLLMENTS = "enrollments", "Enrollments"
    GRADES = "grades", "Grades"
    CERTIFICATES = "certificates", "Certificates"
