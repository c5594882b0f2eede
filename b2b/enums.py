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
