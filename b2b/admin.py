"""Organizations and contracts in the Django admin: read-only (they are edited in Wagtail); so
are the invitations, and the learners' progress with its syncs, nudges and digests (written by
the sync and the e-mail tasks only).

Also the contracts inline of the user page (``users.admin`` shows it): staff add and remove a
learner's memberships there, through the membership service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from b2b.enums import MembershipSource
from b2b.exceptions import MembershipRefused, NotAManager
from b2b.models import (
    ContractMembership,
    ContractPage,
    Invitation,
    InvitationEmail,
    LearnerProgress,
    MembershipRefusal,
    OrganizationManager,
    OrganizationPage,
    ProgressDigest,
    ProgressNudge,
    RunProgressSync,
)
from b2b.services.invitations.managers import grant_manager, revoke_manager
from b2b.services.memberships import (
    admission_refusal,
    attach_learner,
    detach_learner,
    lock_contracts_to_join,
    refusal_message,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrganizationPage)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["title", "org_key", "sso_organization_id", "slug", "live"]
    search_fields = ["title", "org_key", "sso_organization_id"]
    list_filter = ["live"]
    fields = ["title", "slug", "org_key", "sso_organization_id", "description", "live"]


@admin.register(ContractPage)
class ContractAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "slug",
        "integration_type",
        "contract_start",
        "contract_end",
        "active",
        "max_learners",
        "enrollment_fixed_price",
    ]
    list_filter = ["integration_type", "active"]
    search_fields = ["title", "slug", "description"]
    fields = [
        "title",
        "slug",
        "description",
        "integration_type",
        "contract_start",
        "contract_end",
        "active",
        "max_learners",
        "enrollment_fixed_price",
    ]


@admin.register(ContractMembership)
class ContractMembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "contract", "source", "created_by", "created_on"]
    list_filter = ["source"]
    search_fields = ["user__email", "contract__title"]
    list_select_related = ["user", "contract", "created_by"]


@admin.register(MembershipRefusal)
class MembershipRefusalAdmin(ReadOnlyAdmin):
    """Learners a contract turned away at sign-in (for example because it was full)."""

    list_display = ["created_on", "user", "contract", "source", "reason"]
    list_filter = ["source"]
    search_fields = ["user__email", "contract__title", "reason"]
    list_select_related = ["user", "contract"]


class MembershipFormSet(forms.BaseInlineFormSet):
    """New rows name a contract; existing rows can only be deleted.

    An existing row shows its contract as text, so a browser sends no contract for it: the field
    is disabled there (its value comes from the database, whatever is posted), and rows ticked
    for deletion are not validated.
    """

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if form.instance.pk is not None:
            form.fields["contract"].disabled = True

    def clean(self):
        super().clean()
        for form in self.forms:
            if not form.has_changed() or form.instance.pk or self._ticked_for_deletion(form):
                continue
            contract = form.cleaned_data.get("contract")
            if contract is None:
                continue
            reason = admission_refusal(contract=contract)
            if reason is not None:
                form.add_error("contract", refusal_message(contract, reason))
        if any(form.errors for form in self.forms if not self._ticked_for_deletion(form)):
            raise ValidationError("Some contracts cannot take this learner; see below.")

    def _ticked_for_deletion(self, form) -> bool:
        # Django's own test (BaseFormSet._should_delete_form), which its stubs leave out as private.
        return self._should_delete_form(form)  # type: ignore[attr-defined]

    def save_memberships(self, *, staff, user, request) -> None:
        """Apply the rows through the membership service: deleted rows detach the learner,
        new rows attach them (source: staff, by ``staff``)."""
        # The admin's change message reads these three lists.
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        adding = [
            form.cleaned_data["contract"].pk
            for form in self.forms
            if not form.instance.pk and form not in self.deleted_forms and form.has_changed()
        ]
        removing = [form.instance.contract_id for form in self.deleted_forms if form.instance.pk]
        # All the contracts at once, by ascending id (the lock order): two staff members
        # adding or removing overlapping contracts at the same time wait for each other.
        lock_contracts_to_join(adding + removing)
        for membership_form in self.deleted_forms:
            if membership_form.instance.pk:
                detach_learner(user=user, contract_id=membership_form.instance.contract_id)
                self.deleted_objects.append(membership_form.instance)
        for membership_form in self.forms:
            if membership_form.instance.pk or membership_form in self.deleted_forms:
                continue
            if not membership_form.has_changed():
                continue
            contract = membership_form.cleaned_data["contract"]
            try:
                attachment = attach_learner(
                    user=user,
                    contract_id=contract.pk,
                    source=MembershipSource.STAFF,
                    created_by=staff,
                )
                self.new_objects.append(attachment.membership)
            except MembershipRefused as exc:  # lost a race since the form was validated
                messages.error(request, str(exc))


class ContractMembershipInline(admin.TabularInline):
    model = ContractMembership
    fk_name = "user"
    formset = MembershipFormSet
    fields = ["contract", "source", "created_by", "created_on"]
    readonly_fields = ["source", "created_by", "created_on"]
    extra = 0
    verbose_name = "contract"
    verbose_name_plural = "Contracts"

    def has_change_permission(self, request, obj=None):
        # Memberships are added or removed, never edited in place.
        return False

    def has_add_permission(self, request, obj=None):
        return obj is not None and super().has_add_permission(request, obj)


class ManagerFormSet(forms.BaseInlineFormSet):
    """The user's manager roles: new rows name an organization, existing rows can only be
    deleted; both go through ``b2b.services.invitations.managers`` (audited)."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if form.instance.pk is not None:
            form.fields["organization"].disabled = True

    def save_roles(self, *, staff, user) -> None:
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        for role_form in self.deleted_forms:
            if role_form.instance.pk:
                try:
                    revoke_manager(user=user, organization=role_form.instance.organization)
                except NotAManager:  # removed meanwhile by someone else: nothing left to do
                    continue
                self.deleted_objects.append(role_form.instance)
        for role_form in self.forms:
            if role_form.instance.pk or role_form in self.deleted_forms:
                continue
            if not role_form.has_changed():
                continue
            role, created = grant_manager(
                user=user, organization=role_form.cleaned_data["organization"], granted_by=staff
            )
            if created:
                self.new_objects.append(role)


class OrganizationManagerInline(admin.TabularInline):
    """The organizations a user manages (the manager role), on the user's admin page."""

    model = OrganizationManager
    fk_name = "user"
    formset = ManagerFormSet
    fields = ["organization", "granted_by", "granted_on"]
    readonly_fields = ["granted_by", "granted_on"]
    extra = 0
    verbose_name = "managed organization"
    verbose_name_plural = "Manager of organizations"

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return obj is not None and super().has_add_permission(request, obj)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Invitations sent by managers (they act on them in /manage/)."""

    list_display = ["created_on", "email", "contract", "state", "invited_by", "reminders_sent"]
    list_filter = ["state"]
    search_fields = ["email", "contract__title", "invited_by__email"]
    list_select_related = ["contract", "invited_by"]


@admin.register(InvitationEmail)
class InvitationEmailAdmin(ReadOnlyAdmin):
    list_display = ["queued_on", "kind", "to", "state", "attempts", "last_error"]
    list_filter = ["state", "kind"]
    search_fields = ["to"]


@admin.register(LearnerProgress)
class LearnerProgressAdmin(ReadOnlyAdmin):
    """What Open edX last reported of each learner in each contract run."""

    list_display = [
        "edx_username",
        "edx_email",
        "user",
        "contract",
        "run",
        "active",
        "grade_percent",
        "passed",
        "cert_status",
        "changed_on",
        "as_of",
    ]
    list_filter = ["active", "passed", "cert_status", "mode"]
    search_fields = ["edx_username", "edx_email", "user__email", "user__name"]
    list_select_related = ["user", "contract", "run"]
    date_hierarchy = "changed_on"


@admin.register(RunProgressSync)
class RunProgressSyncAdmin(ReadOnlyAdmin):
    list_display = [
        "run",
        "state",
        "phase",
        "last_success_on",
        "last_attempt_on",
        "failures",
        "learners",
        "unmapped",
        "last_error",
    ]
    list_filter = ["state", "phase"]
    search_fields = ["run__courseware_id", "last_error"]
    list_select_related = ["run"]


@admin.register(ProgressNudge)
class ProgressNudgeAdmin(ReadOnlyAdmin):
    list_display = ["queued_on", "to", "contract", "state", "attempts", "sent_by", "last_error"]
    list_filter = ["state", "transient_failure"]
    search_fields = ["to", "progress__edx_username", "progress__edx_email"]
    list_select_related = ["contract", "sent_by"]


@admin.register(ProgressDigest)
class ProgressDigestAdmin(ReadOnlyAdmin):
    list_display = ["week_of", "to", "manager", "state", "attempts", "sent_on", "last_error"]
    list_filter = ["state", "week_of"]
    search_fields = ["to", "manager__user__email"]
    list_select_related = ["manager__user", "manager__organization"]
