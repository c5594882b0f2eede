"""A contract's members and the records kept per contract: the code reconciliation's status,
refused joins, reported health findings and the utilization alerts sent."""

from django.conf import settings
from django.db import models

from b2b.enums import MembershipSource
from b2b.models.pages import ContractPage


class ContractMembership(models.Model):
    """A learner attached to a contract: when, how, and by whom."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contract_memberships"
    )
    contract = models.ForeignKey(ContractPage, on_delete=models.PROTECT, related_name="memberships")
    source = models.CharField(max_length=20, choices=MembershipSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who made it, when made by hand.",
    )
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_on"]
        constraints = [
            models.UniqueConstraint(fields=["user", "contract"], name="b2b_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in contract {self.contract_id}"


class ContractCodeStatus(models.Model):
    """Whether a contract's enrollment codes are in line with its terms.

    Kept out of the page so that publishing an older Wagtail revision cannot roll it back. Every
    change that can affect the codes bumps ``requested_version``; a reconciliation records the
    version it brought the codes to.
    """

    contract = models.OneToOneField(
        ContractPage, primary_key=True, on_delete=models.CASCADE, related_name="code_status"
    )
    requested_version = models.PositiveBigIntegerField(default=0)
    reconciled_version = models.PositiveBigIntegerField(default=0)
    pending_since = models.DateTimeField(null=True, blank=True)
    reconciled_on = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "contract code status"
        verbose_name_plural = "contract code statuses"

    def __str__(self) -> str:
        return f"codes of contract {self.contract_id}"

    @property
    def is_pending(self) -> bool:
        return self.requested_version > self.reconciled_version


class MembershipRefusal(models.Model):
    """A learner who could not be attached automatically (e.g. a full SSO contract): for staff."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    contract = models.ForeignKey(ContractPage, on_delete=models.CASCADE, related_name="refusals")
    source = models.CharField(max_length=20, choices=MembershipSource.choices)
    reason = models.CharField(max_length=255)
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_on"]

    def __str__(self) -> str:
        return f"{self.user_id} refused by contract {self.contract_id}"


class ReportedHealthFinding(models.Model):
    """A health report finding staff were told about
    (``b2b.services.health.notify.notify_staff``): the periodic report mails only findings not
    recorded here, and forgets a finding once it is gone, so that it is reported again if it
    comes back."""

    fingerprint = models.CharField(max_length=64, unique=True)
    check_name = models.CharField(max_length=40)
    contract_id = models.PositiveBigIntegerField(null=True, blank=True)
    what = models.TextField()
    first_reported = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["first_reported", "pk"]

    def __str__(self) -> str:
        return f"{self.check_name} {self.fingerprint}"


class ContractAlert(models.Model):
    """A utilization alert of a contract (a share of its seats used, or days left before its
    end), claimed once: the unique constraint makes the first claimant the only sender.

    ``threshold`` is ``seats-<percent>`` or ``end-<days>``; ``sent_on`` is set when the e-mail
    went out (to ``recipients``), ``last_error`` keeps the last failure to send it.
    """

    contract = models.ForeignKey(ContractPage, on_delete=models.CASCADE, related_name="alerts")
    threshold = models.CharField(max_length=20)
    claimed_on = models.DateTimeField(auto_now_add=True)
    sent_on = models.DateTimeField(null=True, blank=True)
    recipients = models.TextField(blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["claimed_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "threshold"], name="b2b_contract_alert_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.threshold} alert of contract {self.contract_id}"
