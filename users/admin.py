"""The user admin, with the contracts a learner belongs to.

Memberships added here go through the membership service, so the contract's active flag, dates
and learner cap apply, and refusals show in the form.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError

from b2b.enums import MembershipSource
from b2b.exceptions import MembershipRefused
from b2b.models import ContractMembership
from b2b.services.memberships import (
    admission_refusal,
    attach_learner,
    detach_learner,
    lock_contracts_to_join,
    refusal_message,
)
from users.models import User


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
            if not form.has_changed() or form.instance.pk or self._should_delete_form(form):
                continue
            contract = form.cleaned_data.get("contract")
            if contract is None:
                continue
            reason = admission_refusal(contract=contract)
            if reason is not None:
                form.add_error("contract", refusal_message(contract, reason))
        if any(form.errors for form in self.forms if not self._should_delete_form(form)):
            raise ValidationError("Some contracts cannot take this learner; see below.")


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


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name", "global_id"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name", "first_name", "last_name", "global_id")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [ContractMembershipInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not ContractMembership:
            return super().save_formset(request, form, formset, change)
        user = form.instance
        # The admin's change message reads these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        adding = [
            form.cleaned_data["contract"].pk
            for form in formset.forms
            if not form.instance.pk and form not in formset.deleted_forms and form.has_changed()
        ]
        # All the contracts at once, by ascending id (the lock order): two staff members
        # adding overlapping contracts to learners at the same time wait for each other.
        lock_contracts_to_join(adding)
        for membership_form in formset.deleted_forms:
            if membership_form.instance.pk:
                detach_learner(user=user, contract_id=membership_form.instance.contract_id)
                formset.deleted_objects.append(membership_form.instance)
        for membership_form in formset.forms:
            if membership_form.instance.pk or membership_form in formset.deleted_forms:
                continue
            if not membership_form.has_changed():
                continue
            contract = membership_form.cleaned_data["contract"]
            try:
                attachment = attach_learner(
                    user=user,
                    contract_id=contract.pk,
                    source=MembershipSource.STAFF,
                    created_by=request.user,
                )
                formset.new_objects.append(attachment.membership)
            except MembershipRefused as exc:  # lost a race since the form was validated
                messages.error(request, str(exc))
        return None
