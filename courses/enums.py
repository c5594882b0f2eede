from django.db import models


class EdxCopyState(models.TextChoices):
    """Where the Open edX copy of a contract run stands."""

    NOT_REQUIRED = "not_required", "Not required"
    PENDING = "pending", "Pending"
    CREATED = "created", "Created"
    FAILED = "failed", "Failed"
    NOT_CONFIGURED = "not_configured", "Not configured"


class EnrollmentMode(models.TextChoices):
    AUDIT = "audit", "Audit"
    VERIFIED = "verified", "Verified"


class EdxSyncState(models.TextChoices):
    PENDING = "pending", "Pending"
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"
    NOT_CONFIGURED = "not_configured", "Not configured"


class RequirementNodeType(models.TextChoices):
    OPERATOR = "operator", "Operator"
    COURSE = "course", "Course"
    PROGRAM = "program", "Program"


class RequirementOperator(models.TextChoices):
    ALL_OF = "all_of", "All of"
    MIN_NUMBER_OF = "min_number_of", "Minimum number of"
