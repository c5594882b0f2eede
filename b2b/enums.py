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
