"""Organizations and contracts, kept as Wagtail pages, and the learners attached to contracts.

Tree: HomePage -> OrganizationIndexPage (exactly one) -> OrganizationPage -> ContractPage.
A contract's organization is its parent page; there is no other link between the two. The tree
arithmetic that follows the link lives here only: ``ContractPage.organization`` (one contract, or
a listing with ``prefetch_related("organization")``), ``ContractPage.objects.of_organization(org)``
and ``OrganizationPage.objects.with_contract_counts()``.

The terms that decide whether a learner can join a contract are spelled here, once for a row
(``active``, ``is_open_on``, ``is_free``, ``is_sso``) and once for a set (the ``active()``,
``open_on()``, ``free()`` and ``sso()`` filters of ``ContractPage.objects``); the admission rule
that combines them is ``b2b.services.memberships.admission_refusal``. A contract's state on a
day (active, scheduled, ended, inactive) is spelled the same way: ``state_on(day)`` for a row,
``in_state(state, day)`` for a set.
"""

from datetime import date
from decimal import Decimal
from operator import attrgetter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, TitleFieldPanel
from wagtail.models import Page, PageManager
from wagtail.query import PageQuerySet

from b2b.enums import (
    ContractState,
    EmailState,
    IntegrationType,
    InvitationEmailKind,
    InvitationState,
    InviteJobState,
    InviteOutcome,
    MembershipSource,
)
from b2b.naming import name_key
from b2b.validators import ORG_KEY_PATTERN, contract_terms_errors, validate_org_key


class NotServedPage(Page):
    """Pages that hold data for staff and have no public view: visiting one answers 404."""

    class Meta:
        abstract = True

    def serve(self, request, *args, **kwargs):
        raise Http404


class OrganizationIndexPage(NotServedPage):
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["b2b.OrganizationPage"]
    max_count = 1

    class Meta:
        verbose_name = "organizations index"


class OrganizationQuerySet(PageQuerySet):
    def named(self, name: str) -> "OrganizationQuerySet":
        """The organization whose name is ``name`` up to case and spacing (``naming.name_key``);
        at most one, the database holds it."""
        return self.filter(name_key=name_key(name))

    def with_contract_counts(self) -> "OrganizationQuerySet":
        """Each organization annotated with ``contract_count``, counted in the same query."""
        contracts = ContractPage.objects.under_page(OuterRef("path"), OuterRef("depth"))
        count = contracts.order_by().values(n=Func(F("pk"), function="COUNT"))
        return self.annotate(contract_count=Subquery(count))


class OrganizationPage(NotServedPage):
    """An organization (university, company). Its name is the page title."""

    org_key = models.CharField(
        max_length=40,
        unique=True,
        validators=[validate_org_key],
        help_text="Short upper-case key used in the Open edX keys of this organization's runs.",
    )
    description = models.TextField(blank=True)
    logo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sso_organization_id = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        help_text="The identity provider's id for this organization (Keycloak organization).",
    )
    # The name as compared (``b2b.naming.name_key``), kept in step with the title on every save:
    # two organizations cannot have names that differ only in case or spacing. Empty (null) only
    # on organizations that had such a twin before the rule existed, until they are renamed.
    name_key = models.CharField(max_length=255, null=True, unique=True, editable=False)

    content_panels = [
        TitleFieldPanel("title", heading="Name", help_text="The organization's name."),
        FieldPanel("org_key"),
        FieldPanel("description"),
        FieldPanel("logo"),
        FieldPanel("sso_organization_id"),
    ]
    parent_page_types = ["b2b.OrganizationIndexPage"]
    objects = PageManager.from_queryset(OrganizationQuerySet)()
    subpage_types = ["b2b.ContractPage"]

    class Meta:
        verbose_name = "organization"
        constraints = [
            models.CheckConstraint(
                condition=Q(org_key__regex=ORG_KEY_PATTERN), name="b2b_organization_org_key_valid"
            )
        ]

    @property
    def name(self) -> str:
        return self.title

    def clean(self):
        super().clean()
        twin = OrganizationPage.objects.named(self.title).exclude(pk=self.pk).first()
        if twin is not None:
            raise ValidationError(
                {
                    "title": f"An organization named {twin.title!r} (id {twin.pk}) already "
                    "exists; names that differ only in case or spacing are the same name."
                }
            )

    def save(self, *args, **kwargs):
        if self.sso_organization_id == "":
            self.sso_organization_id = None
        self.name_key = name_key(self.title)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "title" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        return super().save(*args, **kwargs)


def _open_on(day: date) -> Q:
    """Dates that include ``day`` (both ends inclusive; a missing date is open)."""
    started = Q(contract_start__isnull=True) | Q(contract_start__lte=day)
    return started & (Q(contract_end__isnull=True) | Q(contract_end__gte=day))


class ContractQuerySet(PageQuerySet):
    """Contracts by the terms that decide admission; each filter matches the row-level property
    of the same meaning on ``ContractPage`` (``active``, ``is_open_on``, ``is_free``,
    ``is_sso``)."""

    def active(self) -> "ContractQuerySet":
        return self.filter(active=True)

    def open_on(self, day: date) -> "ContractQuerySet":
        """Contracts whose dates include ``day``; both ends inclusive, a missing end is open."""
        return self.filter(_open_on(day))

    def in_state(self, state: ContractState, day: date) -> "ContractQuerySet":
        """Contracts whose state on ``day`` is ``state``: the set form of
        ``ContractPage.state_on``."""
        # The database holds start <= end, so a contract not started yet has not ended.
        conditions = {
            ContractState.INACTIVE: Q(active=False),
            ContractState.SCHEDULED: Q(active=True, contract_start__gt=day),
            ContractState.ENDED: Q(active=True, contract_end__lt=day),
            ContractState.ACTIVE: Q(active=True) & _open_on(day),
        }
        return self.filter(conditions[ContractState(state)])

    def free(self) -> "ContractQuerySet":
        """Contracts a learner joins without paying: no fixed price, or a price of 0."""
        return self.filter(Q(enrollment_fixed_price__isnull=True) | Q(enrollment_fixed_price=0))

    def sso(self) -> "ContractQuerySet":
        return self.filter(integration_type=IntegrationType.SSO)

    def named(self, name: str) -> "ContractQuerySet":
        """Contracts named ``name``, by ascending id; two names are the same by the one rule
        for names, ``b2b.naming.name_key`` ("Acme  Main" and "acme main" are one name). An
        organization has at most one. Compared in Python: call it on one organization's
        contracts."""
        wanted = name_key(name)
        same = [pk for pk, title in self.values_list("pk", "title") if name_key(title) == wanted]
        return self.filter(pk__in=same).order_by("pk")

    def of_organization(self, organization: OrganizationPage) -> "ContractQuerySet":
        """The organization's contracts (the contract pages right under it)."""
        return self.under_page(organization.path, organization.depth)

    def under_page(self, path, depth) -> "ContractQuerySet":
        """Contracts right under the page at ``path`` and ``depth``: values, or ``OuterRef``s
        when a subquery counts the contracts of each row of an outer query of organizations."""
        return self.filter(path__startswith=path, depth=depth + 1)


class OrganizationOfContract:
    """``contract.organization``: the contract's parent page, as an ``OrganizationPage``.

    Read on first use (one query) and then kept on the instance. A listing reads the
    organizations of all its contracts in one query with ``prefetch_related("organization")``,
    which Django runs through ``get_prefetch_querysets`` below.
    """

    cache_name = "organization"

    def __get__(self, contract, owner=None):
        if contract is None:
            return self
        cache = contract._state.fields_cache
        if self.cache_name not in cache:
            cache[self.cache_name] = OrganizationPage.objects.get(path=contract.organization_path)
        return cache[self.cache_name]

    def is_cached(self, contract) -> bool:
        return self.cache_name in contract._state.fields_cache

    def get_prefetch_querysets(self, instances, querysets=None):
        if querysets and len(querysets) != 1:
            raise ValueError("prefetch_related('organization') takes at most one queryset")
        queryset = querysets[0] if querysets else OrganizationPage.objects.all()
        paths = {contract.organization_path for contract in instances}
        return (
            queryset.filter(path__in=paths),
            attrgetter("path"),  # the key of a fetched organization...
            attrgetter("organization_path"),  # ...and of the contract it belongs to
            True,  # one organization per contract
            self.cache_name,
            False,  # the cache is the instance's fields cache, as for a foreign key
        )


class ContractPage(NotServedPage):
    """A contract of an organization (the parent page). Its name is the page title."""

    description = models.TextField(blank=True)
    integration_type = models.CharField(max_length=20, choices=IntegrationType.choices)
    contract_start = models.DateField(null=True, blank=True)
    contract_end = models.DateField(
        null=True, blank=True, help_text="The last day of the contract (inclusive)."
    )
    active = models.BooleanField(default=True)
    max_learners = models.PositiveIntegerField(
        null=True, blank=True, help_text="Learner cap; leave empty for no cap."
    )
    enrollment_fixed_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="What a learner pays to enroll; leave empty for free.",
    )
    # The contract this one renews (``b2b_contract renew``, or an import of a renewal): set when
    # the contract is made, never edited; shown in b2b_list and the Wagtail summary panel.
    renews = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewals",
        help_text="The contract this one renews.",
    )
    programs = models.ManyToManyField("courses.Program", blank=True, related_name="b2b_contracts")
    courses = models.ManyToManyField("courses.Course", blank=True, related_name="b2b_contracts")
    content_panels = [
        TitleFieldPanel("title", heading="Name", help_text="The contract's name."),
        FieldPanel("description"),
        FieldPanel("integration_type"),
        FieldPanel("contract_start"),
        FieldPanel("contract_end"),
        FieldPanel("active"),
        FieldPanel("max_learners"),
        FieldPanel("enrollment_fixed_price"),
        # b2b.apps adds the read-only summary panel (b2b.panels), which reads through the
        # selectors: models stay below them.
    ]
    # b2b.apps sets base_form_class and copy_form_class to b2b.forms' classes (contract names,
    # the code bound), which check through the services: models stay below them.
    parent_page_types = ["b2b.OrganizationPage"]
    subpage_types: list[str] = []
    # A copy made in Wagtail is a new contract, not a renewal of what the original renews.
    exclude_fields_in_copy = ["renews"]
    objects = PageManager.from_queryset(ContractQuerySet)()
    organization = OrganizationOfContract()

    class Meta:
        verbose_name = "contract"
        constraints = [
            models.CheckConstraint(
                condition=Q(contract_start__isnull=True)
                | Q(contract_end__isnull=True)
                | Q(contract_start__lte=models.F("contract_end")),
                name="b2b_contract_start_before_end",
            ),
            models.CheckConstraint(
                condition=Q(max_learners__isnull=True) | Q(max_learners__gte=1),
                name="b2b_contract_cap_positive",
            ),
            models.CheckConstraint(
                condition=Q(enrollment_fixed_price__isnull=True)
                | Q(enrollment_fixed_price__gte=Decimal("0")),
                name="b2b_contract_price_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(integration_type__in=IntegrationType.values),
                name="b2b_contract_integration_type_valid",
            ),
        ]

    @property
    def name(self) -> str:
        return self.title

    @property
    def is_sso(self) -> bool:
        return self.integration_type == IntegrationType.SSO

    @property
    def price(self) -> Decimal:
        """What a learner pays: the fixed price, or nothing."""
        return self.enrollment_fixed_price or Decimal("0.00")

    @property
    def is_free(self) -> bool:
        """No fixed price, or a price of 0 (``ContractPage.objects.free()`` for a set)."""
        return self.price == 0

    @property
    def organization_path(self) -> str:
        """The tree path of the contract's organization (its parent page): the contract's own
        path, one step shorter."""
        return self.path[: -self.steplen]

    def is_open_on(self, day: date) -> bool:
        """Whether ``day`` falls inside the contract's dates (both ends inclusive); the row
        form of ``ContractPage.objects.open_on(day)``."""
        if self.contract_start and day < self.contract_start:
            return False
        return not (self.contract_end and day > self.contract_end)

    def state_on(self, day: date) -> ContractState:
        """Where the contract stands on ``day``: the row form of
        ``ContractPage.objects.in_state(state, day)``."""
        if not self.active:
            return ContractState.INACTIVE
        if self.contract_start and day < self.contract_start:
            return ContractState.SCHEDULED
        if self.contract_end and day > self.contract_end:
            return ContractState.ENDED
        return ContractState.ACTIVE

    def clean(self):
        super().clean()
        errors = contract_terms_errors(
            start_date=self.contract_start,
            end_date=self.contract_end,
            max_learners=self.max_learners,
            price=self.enrollment_fixed_price,
        )
        if errors:
            raise ValidationError(errors)


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
    # counts from it (b2b.services.invitations.remind_wait).
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
            # the e-mails one address received lately (b2b.services.email_limits)
            models.Index(fields=["to", "queued_on"], name="b2b_invemail_to_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.state})"
