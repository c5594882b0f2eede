"""Organizations and contracts in the Django admin: read-only (they are edited in Wagtail)."""

from django.contrib import admin

from b2b.models import ContractMembership, ContractPage, MembershipRefusal, OrganizationPage


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
