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
``in_state(state, day)`` for a set."""

from datetime import date
from decimal import Decimal
from operator import attrgetter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, OuterRef, Q, Subquery
from django.http import Http404
from wagtail.admin.panels import FieldPanel, TitleFieldPanel
from wagtail.models import Page, PageManager
from wagtail.query import PageQuerySet

from b2b.enums import (
    ContractState,
    IntegrationType,
    ProgressVisibility,
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


def default_progress_visibility() -> str:
    """What a new contract's managers see of outcomes: B2B_PROGRESS_DEFAULT_VISIBILITY."""
    return str(settings.B2B_PROGRESS_DEFAULT_VISIBILITY)


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
    # What managers see of the learners' outcomes (b2b.selectors.progress); a new contract starts
    # from B2B_PROGRESS_DEFAULT_VISIBILITY.
    progress_visibility = models.CharField(
        max_length=20,
        choices=ProgressVisibility.choices,
        default=default_progress_visibility,
        help_text="What the organization's managers see of learners' progress and outcomes.",
    )
    auto_nudges = models.BooleanField(
        default=False,
        help_text="E-mail learners who need attention a reminder automatically (once per "
        "cooldown).",
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
        FieldPanel("progress_visibility"),
        FieldPanel("auto_nudges"),
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
