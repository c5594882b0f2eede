"""What a contract's learners do after they join, as Open edX reports it: one row per learner and
contract run (``LearnerProgress``), the sync's place in each run's sweep (``RunProgressSync``),
the contract's refresh requests (``ContractProgress``), the nudges sent to stuck learners and the
managers' weekly digests.

The rules that read these rows (started, certified, needs attention) are the queryset's methods:
one owner for each, called by the pages, the API, the CSV, the digests and the nudges alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from b2b.enums import EmailState, ProgressPhase, ProgressSyncState
from b2b.models.invitations import OrganizationManager
from b2b.models.pages import ContractPage

# Open edX certificate statuses that mean the learner holds the certificate. Every other status
# (notpassing, unavailable = revoked or invalidated, generating, audit_*, error) does not count.
CERTIFIED_STATUSES = ("downloadable",)


@dataclass(frozen=True)
class AttentionCutoffs:
    """The instants behind "needs attention", taken once per request so that the count and the
    filter agree: enrolled before ``not_started_before`` and not started, or started, not passed
    and unchanged since before ``unchanged_before``."""

    now: datetime
    not_started_before: datetime
    unchanged_before: datetime

    @classmethod
    def at(cls, now: datetime) -> AttentionCutoffs:
        return cls(
            now=now,
            not_started_before=now - timedelta(days=settings.B2B_PROGRESS_NOT_STARTED_DAYS),
            unchanged_before=now - timedelta(days=settings.B2B_PROGRESS_UNCHANGED_DAYS),
        )


def certified_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}cert_status__in": CERTIFIED_STATUSES})


def started_q(prefix: str = "") -> Q:
    """A grade above zero, a pass or a certificate. A grade of 0 is "not started yet"."""
    return (
        Q(**{f"{prefix}grade_percent__gt": 0})
        | Q(**{f"{prefix}passed": True})
        | certified_q(prefix)
    )


def completed_q(prefix: str = "") -> Q:
    """Passed, or certified (a certificate that is not revoked counts even where the current
    grade is not a pass)."""
    return Q(**{f"{prefix}passed": True}) | certified_q(prefix)


def needs_attention_q(cutoffs: AttentionCutoffs, prefix: str = "") -> Q:
    """Enrolled and active, and either not started ``B2B_PROGRESS_NOT_STARTED_DAYS`` after
    enrolling, or started and not completed with no change seen for
    ``B2B_PROGRESS_UNCHANGED_DAYS``."""
    active = Q(**{f"{prefix}active": True})
    not_started = ~started_q(prefix) & Q(**{f"{prefix}enrolled_on__lt": cutoffs.not_started_before})
    stalled = (
        started_q(prefix)
        & ~completed_q(prefix)
        & Q(**{f"{prefix}changed_on__lt": cutoffs.unchanged_before})
    )
    return active & (not_started | stalled)


def newly_flagged_q(cutoffs: AttentionCutoffs, since: datetime, prefix: str = "") -> Q:
    """Needs attention at ``cutoffs`` and did not yet at ``since``: the flag of a learner not
    started rises ``B2B_PROGRESS_NOT_STARTED_DAYS`` after enrolling, that of a stalled one
    ``B2B_PROGRESS_UNCHANGED_DAYS`` after the last change, so it rose after ``since`` when that
    moment is later than ``since`` (the weekly digest's "newly flagged")."""
    not_started_days = cutoffs.now - cutoffs.not_started_before
    unchanged_days = cutoffs.now - cutoffs.unchanged_before
    rose_not_started = ~started_q(prefix) & Q(
        **{f"{prefix}enrolled_on__gt": since - not_started_days}
    )
    rose_stalled = started_q(prefix) & Q(**{f"{prefix}changed_on__gt": since - unchanged_days})
    return needs_attention_q(cutoffs, prefix) & (rose_not_started | rose_stalled)


class LearnerProgressQuerySet(models.QuerySet["LearnerProgress"]):
    def started(self) -> LearnerProgressQuerySet:
        return self.filter(started_q())

    def not_started(self) -> LearnerProgressQuerySet:
        return self.filter(active=True).exclude(started_q())

    def passed(self) -> LearnerProgressQuerySet:
        return self.filter(passed=True)

    def certified(self) -> LearnerProgressQuerySet:
        return self.filter(certified_q())

    def completed(self) -> LearnerProgressQuerySet:
        return self.filter(completed_q())

    def needing_attention(self, cutoffs: AttentionCutoffs) -> LearnerProgressQuerySet:
        return self.filter(needs_attention_q(cutoffs))


class LearnerProgress(models.Model):
    """A learner's standing in one contract run, as Open edX last reported it.

    ``user`` is who the Open edX username belongs to here, through the username the enrollment
    push recorded (``CourseRunEnrollment.edx_username``); it is empty for a learner we cannot map,
    who is counted and reported, never guessed. ``as_of`` is when Open edX told us;
    ``changed_on`` when a value last changed (a sync that finds nothing new leaves it).
    """

    contract = models.ForeignKey(
        ContractPage, on_delete=models.CASCADE, related_name="learner_progress"
    )
    run = models.ForeignKey(
        "courses.CourseRun", on_delete=models.CASCADE, related_name="b2b_progress"
    )
    edx_username = models.CharField(max_length=150)
    edx_email = models.CharField(max_length=254, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="b2b_progress",
    )
    # From the enrollments API: mode, is_active, created.
    mode = models.CharField(max_length=50, blank=True)
    active = models.BooleanField(default=False)
    enrolled_on = models.DateTimeField(null=True, blank=True)
    # From the course-wide current grades: percent (0 to 1), letter grade, passed.
    grade_percent = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    letter_grade = models.CharField(max_length=64, blank=True)
    passed = models.BooleanField(default=False)
    first_passed_on = models.DateTimeField(null=True, blank=True)
    # From the learner's certificate in the run: status, download URL, created.
    cert_status = models.CharField(max_length=32, blank=True)
    cert_url = models.CharField(max_length=500, blank=True)
    cert_created_on = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField()
    changed_on = models.DateTimeField()
    last_nudged_on = models.DateTimeField(null=True, blank=True)

    objects = LearnerProgressQuerySet.as_manager()

    class Meta:
        verbose_name = "learner progress"
        verbose_name_plural = "learner progress"
        ordering = ["contract", "run", "edx_username"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "edx_username"], name="b2b_progress_one_per_run_learner"
            ),
        ]
        indexes = [
            models.Index(fields=["contract", "changed_on"], name="b2b_progress_changed"),
            models.Index(fields=["contract", "user"], name="b2b_progress_user"),
        ]

    def __str__(self) -> str:
        return f"{self.edx_username} in {self.run_id}"

    @property
    def is_started(self) -> bool:
        return (
            (self.grade_percent is not None and self.grade_percent > 0)
            or self.passed
            or self.is_certified
        )

    @property
    def is_certified(self) -> bool:
        return self.cert_status in CERTIFIED_STATUSES

    @property
    def is_completed(self) -> bool:
        return self.passed or self.is_certified

    def needs_attention(self, cutoffs: AttentionCutoffs) -> bool:
        """The Python twin of ``needs_attention_q`` for a row already loaded."""
        if not self.active:
            return False
        if not self.is_started:
            return self.enrolled_on is not None and self.enrolled_on < cutoffs.not_started_before
        return not self.is_completed and self.changed_on < cutoffs.unchanged_before


class RunProgressSync(models.Model):
    """Where one contract run's sweep of Open edX stands, so that a killed worker or a restart
    continues at ``cursor`` (the next page of ``phase``) instead of starting over.

    A sweep reads the enrollments, then the grades, then the certificates of the learners who
    passed or hold one; ``sweep_as_of`` is when it started, and becomes the rows' ``as_of``.
    """

    run = models.OneToOneField(
        "courses.CourseRun",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="b2b_progress_sync",
    )
    state = models.CharField(
        max_length=20, choices=ProgressSyncState.choices, default=ProgressSyncState.IDLE
    )
    phase = models.CharField(
        max_length=20, choices=ProgressPhase.choices, default=ProgressPhase.ENROLLMENTS
    )
    cursor = models.TextField(blank=True)
    sweep_as_of = models.DateTimeField(null=True, blank=True)
    last_attempt_on = models.DateTimeField(null=True, blank=True)
    last_success_on = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Figures of the last finished sweep.
    learners = models.PositiveIntegerField(default=0)
    unmapped = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "run progress sync"

    def __str__(self) -> str:
        return f"progress sync of {self.run_id} ({self.state})"


class ContractProgress(models.Model):
    """Per contract: when a manager last asked for a refresh (at most one an hour)."""

    contract = models.OneToOneField(
        ContractPage, primary_key=True, on_delete=models.CASCADE, related_name="progress_state"
    )
    refresh_requested_on = models.DateTimeField(null=True, blank=True)
    refresh_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"progress of contract {self.contract_id}"


class ProgressNudge(models.Model):
    """One reminder e-mail to a learner who needs attention, and what became of it."""

    progress = models.ForeignKey(LearnerProgress, on_delete=models.CASCADE, related_name="nudges")
    contract = models.ForeignKey(ContractPage, on_delete=models.CASCADE, related_name="nudges")
    to = models.EmailField(max_length=254)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The manager who sent it; empty for an automatic nudge.",
    )
    state = models.CharField(max_length=20, choices=EmailState.choices, default=EmailState.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    transient_failure = models.BooleanField(default=False)
    queued_on = models.DateTimeField(auto_now_add=True)
    sent_on = models.DateTimeField(null=True, blank=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["queued_on", "pk"]
        indexes = [models.Index(fields=["state"], name="b2b_nudge_state")]

    def __str__(self) -> str:
        return f"nudge to {self.to} ({self.state})"


class ProgressDigest(models.Model):
    """One weekly digest to a manager who opted in, claimed once per manager and week (the
    unique constraint), with what became of it. ``since`` is when the previous digest went out:
    "what changed" counts from it."""

    manager = models.ForeignKey(
        OrganizationManager, on_delete=models.CASCADE, related_name="digests"
    )
    week_of = models.DateField(help_text="The Monday of the week it covers.")
    since = models.DateTimeField(null=True, blank=True)
    to = models.EmailField(max_length=254)
    state = models.CharField(max_length=20, choices=EmailState.choices, default=EmailState.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Failed for a transient reason on its last allowed attempt: the sweep sends it again.
    transient_failure = models.BooleanField(default=False)
    queued_on = models.DateTimeField(auto_now_add=True)
    sent_on = models.DateTimeField(null=True, blank=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-week_of", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["manager", "week_of"], name="b2b_digest_once_a_week"),
        ]

    def __str__(self) -> str:
        return f"digest of {self.week_of} to {self.to} ({self.state})"
