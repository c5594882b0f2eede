"""Managers and their invitations: who manages an organization, the invitations they send and
each e-mail of them, and the invite jobs (a list of addresses worked through in the background)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from b2b.enums import (
    EmailState,
    InvitationEmailKind,
    InvitationState,
    InviteJobState,
    InviteOutcome,
)
from b2b.models.pages import ContractPage, OrganizationPage

INVALID_NAME = "invalid-name"  # a row refused before it reaches invite_many: a formula name


def outcome_label(outcome: str) -> str:
    """The words for a job row's result: an ``InviteOutcome`` or "invalid name"."""
    if outcome == INVALID_NAME:
        return "invalid name"
    if outcome in InviteOutcome.values:
        return str(InviteOutcome(outcome).label)
    return "not handled yet"


class InviteJob(models.Model):
    """A manager's upload of people to invite to a contract, and how far it has gone.

    ``rows`` were uploaded; ``done`` of ``total`` is the progress ``invite_many`` reports (the
    rows it has to decide, invalid and duplicate ones set aside), written as each batch commits.
    """

    contract = models.ForeignKey(ContractPage, on_delete=models.CASCADE, related_name="invite_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        max_length=20, choices=InviteJobState.choices, default=InviteJobState.QUEUED
    )
    rows = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    started_on = models.DateTimeField(null=True, blank=True)
    finished_on = models.DateTimeField(null=True, blank=True)
    # When the job was last handed to the queue (or the request): the sweep queues a job again
    # when this is older than B2B_INVITATION_REQUEUE_AFTER_SECONDS and nothing has taken it.
    queued_on = models.DateTimeField(default=timezone.now)
    # A running job's last sign of life (its claim, each committed batch); a job running with
    # no sign for B2B_INVITE_JOB_STALE_SECONDS is taken to be abandoned.
    beat_on = models.DateTimeField(null=True, blank=True)
    # Why the last run stopped before the end (a database error, on one line); "" otherwise.
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_on", "-pk"]
        indexes = [models.Index(fields=["state", "queued_on"])]

    def __str__(self) -> str:
        return f"invite job {self.pk} of contract {self.contract_id} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state == InviteJobState.DONE

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0


class InviteJobRow(models.Model):
    """One row of an uploaded file, as typed, with its result once the job has run."""

    job = models.ForeignKey(InviteJob, on_delete=models.CASCADE, related_name="row_set")
    position = models.PositiveIntegerField()  # order in the file, from 0
    line = models.PositiveIntegerField()  # the line in the file
    email = models.TextField()
    name = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    invitation = models.ForeignKey(
        "b2b.Invitation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="b2b_invite_job_row_unique")
        ]

    def __str__(self) -> str:
        return f"row {self.position} of invite job {self.job_id}"

    @property
    def outcome_label(self) -> str:
        return outcome_label(self.outcome)


class OrganizationManager(models.Model):
    """A user who manages an organization's contracts (the manager role, per organization)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="managed_organizations"
    )
    organization = models.ForeignKey(
        OrganizationPage, on_delete=models.CASCADE, related_name="managers"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who granted the role.",
    )
    granted_on = models.DateTimeField(auto_now_add=True)
    # The weekly progress digest (b2b.services.progress.digests), chosen on the manager pages.
    wants_digest = models.BooleanField(default=False)

    class Meta:
        verbose_name = "organization manager"
        ordering = ["granted_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="b2b_organization_manager_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} manages {self.organization_id}"


class Invitation(models.Model):
    """A person invited by e-mail to join a contract, with the enrollment code set aside for them.

    ``code`` is the code the invitation hands out (one of the contract's pool, or a personal
    one-time code for an uncapped contract); it is deactivated on revocation. A capped contract
    never has more members plus open invitations than its cap (``b2b.services.invitations``).
    """

    contract = models.ForeignKey(ContractPage, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254, help_text="Stored lower-case.")
    name = models.CharField(max_length=255, blank=True)
    code = models.ForeignKey(
        "ecommerce.Discount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
    )
    state = models.CharField(
        max_length=20, choices=InvitationState.choices, default=InvitationState.OPEN
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)
    reminders_sent = models.PositiveIntegerField(default=0)
    last_reminded_on = models.DateTimeField(null=True, blank=True)
    # When its last invitation or reminder e-mail was delivered, or queued while it is still on
    # its way; empty when none was delivered and the last one failed. The reminder cooldown
    # counts from it (b2b.services.invitations.lifecycle.remind_wait).
    last_emailed_on = models.DateTimeField(null=True, blank=True)
    revoked_on = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    redeemed_on = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "email"],
                condition=Q(state=InvitationState.OPEN),
                name="b2b_invitation_one_open_per_email",
            ),
            models.CheckConstraint(
                condition=Q(state__in=InvitationState.values), name="b2b_invitation_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["contract", "state"])]

    def __str__(self) -> str:
        return f"{self.email} to contract {self.contract_id} ({self.state})"


class InvitationEmail(models.Model):
    """One e-mail message about an invitation and what became of it (shown to the manager)."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=20, choices=InvitationEmailKind.choices)
    to = models.EmailField(max_length=254)
    state = models.CharField(max_length=20, choices=EmailState.choices, default=EmailState.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # A failed message whose last failure was transient (4xx, connection refused or dropped,
    # timeout) after every retry: the sweep sends it again once the server answers.
    transient_failure = models.BooleanField(default=False)
    queued_on = models.DateTimeField(auto_now_add=True)
    sent_on = models.DateTimeField(null=True, blank=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["queued_on", "pk"]
        indexes = [
            models.Index(fields=["state"]),
            # the e-mails one address received lately (b2b.services.invitations.email_limits)
            models.Index(fields=["to", "queued_on"], name="b2b_invemail_to_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.state})"
