"""The user admin, with the contracts a learner belongs to.

The contracts inline and the manager roles inline are b2b's (``OrganizationManagerInline``: the
organizations the user manages, granted and removed through ``b2b.services.invitations.managers``).
The
contracts inline is b2b's (``b2b.admin.ContractMembershipInline``): memberships added or
removed there go through b2b's membership service, so the contract's active flag, dates and
learner cap apply, and refusals show in the form.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from b2b.admin import (
    ContractMembershipInline,
    ManagerFormSet,
    MembershipFormSet,
    OrganizationManagerInline,
)
from users.models import User


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
    inlines = [ContractMembershipInline, OrganizationManagerInline]

    def save_formset(self, request, form, formset, change):
        if isinstance(formset, MembershipFormSet):
            formset.save_memberships(staff=request.user, user=form.instance, request=request)
            return None
        if isinstance(formset, ManagerFormSet):
            formset.save_roles(staff=request.user, user=form.instance)
            return None
        return super().save_formset(request, form, formset, change)
