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


class HealthSeverity(models.TextChoices):
    """How bad a health report's finding is: an error breaks a rule the system promises (a
    learner over the cap, a payment without its enrollment); a warning is work that is late or
    out of line and that a reconciliation, a retry or a person sets right."""

    ERROR = "error", "Error"
    WARNING = "warning", "Warning"


class ContractState(models.TextChoices):
    """Where a contract stands on a given day (``ContractPage.state_on``, and
    ``ContractPage.objects.in_state`` for a set): deactivated, not started yet, past its last
    day, or running."""

    ACTIVE = "active", "Active"
    SCHEDULED = "scheduled", "Scheduled"
    ENDED = "ended", "Ended"
    INACTIVE = "inactive", "Inactive"
