"""Shapes of the b2b API: input serializers check shape only (the services decide the rules);
output serializers read the selectors' typed rows."""

from typing import TypedDict

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from b2b.enums import IntegrationType, MembershipSource
from b2b.validators import validate_org_key
from courses.enums import EdxCopyState
from ecommerce.services.contract_codes.reads import product_cart_url


class _PriceOptions(TypedDict):
    max_digits: int
    decimal_places: int
    min_value: int
    max_value: int


# Every price field of the API: the database's 10 digits, 2 of them decimals, never negative.
PRICE: _PriceOptions = {
    "max_digits": 10,
    "decimal_places": 2,
    "min_value": 0,
    "max_value": 99999999,
}


# Organizations


class OrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    org_key = serializers.CharField()
    slug = serializers.CharField()
    sso_organization_id = serializers.CharField(allow_null=True)
    contracts = serializers.IntegerField(help_text="How many contracts it has.")


class OrganizationWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    org_key = serializers.CharField(
        max_length=40, required=False, help_text="Default: derived from the name."
    )
    description = serializers.CharField(required=False, allow_blank=True)
    sso_organization_id = serializers.CharField(
        max_length=255, required=False, allow_null=True, allow_blank=True
    )

    def validate_org_key(self, value: str) -> str:
        validate_org_key(value.strip().upper())
        return value


class OrganizationUpdateSerializer(OrganizationWriteSerializer):
    name = serializers.CharField(max_length=255, required=False)


# Contracts


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CodeCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    usable = serializers.IntegerField(help_text="Active and never redeemed.")
    redeemed = serializers.IntegerField()
    deactivated = serializers.IntegerField()


class ContractSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    organization_id = serializers.IntegerField(allow_null=True)
    organization = serializers.CharField(allow_null=True, help_text="The organization's name.")
    integration_type = serializers.ChoiceField(choices=IntegrationType.choices)
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True, help_text="The last day, inclusive.")
    active = serializers.BooleanField()
    max_learners = serializers.IntegerField(allow_null=True, help_text="null: no cap.")
    price = serializers.DecimalField(allow_null=True, help_text="null: free.", **PRICE)
    learners = serializers.IntegerField()
    codes = CodeCountsSerializer()
    codes_pending = serializers.BooleanField(help_text="A code update is waiting to run.")
    codes_pending_since = serializers.DateTimeField(allow_null=True)


class CodeStatusSerializer(serializers.Serializer):
    up_to_date = serializers.BooleanField()
    pending_since = serializers.DateTimeField(allow_null=True)
    reconciled_on = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)


class ContractDetailSerializer(ContractSerializer):
    description = serializers.CharField(allow_blank=True)
    code_status = CodeStatusSerializer()


class ContractCreateSerializer(serializers.Serializer):
    organization_id = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=255)
    integration_type = serializers.ChoiceField(choices=IntegrationType.choices)
    start = serializers.DateField(required=False, allow_null=True)
    end = serializers.DateField(required=False, allow_null=True)
    max_learners = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2_000_000_000
    )
    price = serializers.DecimalField(required=False, allow_null=True, **PRICE)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ContractUpdateSerializer(serializers.Serializer):
    """Only the fields given change; null removes a date, the cap or the price."""

    start = serializers.DateField(required=False, allow_null=True)
    end = serializers.DateField(required=False, allow_null=True)
    max_learners = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2_000_000_000
    )
    price = serializers.DecimalField(required=False, allow_null=True, **PRICE)
    active = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class CodePlanSerializer(serializers.Serializer):
    products = serializers.IntegerField(help_text="The contract's active products.")
    products_to_reprice = serializers.IntegerField()
    codes_to_create = serializers.IntegerField()
    codes_to_reprice = serializers.IntegerField()
    codes_to_redate = serializers.IntegerField(
        help_text="Codes whose activation or expiration date moves with the contract's dates."
    )
    codes_to_retype = serializers.IntegerField()
    codes_to_reactivate = serializers.IntegerField()
    codes_to_deactivate = serializers.IntegerField()
    codes_to_delete = serializers.IntegerField()
    summary = serializers.ListField(child=serializers.CharField())


class ContractPlanSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(allow_null=True)),
        help_text="Per field: [old, new].",
    )
    codes = CodePlanSerializer()


# Courseware and runs


class RunSerializer(serializers.Serializer):
    courseware_id = serializers.CharField()
    course = serializers.CharField()
    title = serializers.CharField()
    start = serializers.DateTimeField(allow_null=True)
    end = serializers.DateTimeField(allow_null=True)
    product_id = serializers.IntegerField(allow_null=True)
    price = serializers.DecimalField(allow_null=True, **PRICE)
    usable_codes = serializers.IntegerField()
    edx_copy = serializers.ChoiceField(choices=EdxCopyState.choices)
    edx_error = serializers.CharField(allow_null=True)


class AttachedSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["course", "program"])
    readable_id = serializers.CharField()
    title = serializers.CharField()
    has_run = serializers.BooleanField(allow_null=True)


class CoursewareAddSerializer(serializers.Serializer):
    courseware_id = serializers.CharField(
        max_length=255, help_text="course-v1:ORG+NUMBER, course-v1:ORG+NUMBER+RUN or program-v1:..."
    )
    create_runs = serializers.BooleanField(default=True)


class SkippedSerializer(serializers.Serializer):
    readable_id = serializers.CharField()
    reason = serializers.CharField()


class CoursewareResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    attached = serializers.ListField(child=serializers.CharField())
    created_runs = serializers.ListField(child=serializers.CharField())
    assigned_runs = serializers.ListField(child=serializers.CharField())
    detached_runs = serializers.ListField(child=serializers.CharField())
    skipped = SkippedSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())
    products_created = serializers.IntegerField()
    products_deactivated = serializers.IntegerField()
    codes = CodePlanSerializer(allow_null=True)


class RequeueSerializer(serializers.Serializer):
    failed_only = serializers.BooleanField(
        default=True, help_text="Only runs whose copy failed or could not run (default)."
    )


class RequeuedSerializer(serializers.Serializer):
    requeued = serializers.ListField(child=serializers.CharField())


# Codes


class CodeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", help_text="The code's link to its product.")
    code = serializers.CharField()
    product_id = serializers.IntegerField()
    active = serializers.BooleanField(source="is_active")
    redemption_type = serializers.CharField()
    times_redeemed = serializers.IntegerField()
    redeemed_by = serializers.EmailField(source="redeemer", allow_null=True)


class CodeFilterSerializer(serializers.Serializer):
    redeemed = serializers.BooleanField(required=False, allow_null=True, default=None)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    product = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


# Learners


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(allow_blank=True)


class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = PersonSerializer()
    joined_on = serializers.DateTimeField(source="created_on")
    # Named like Field.source; DRF's metaclass takes declared fields off the class (not in stubs).
    source = serializers.ChoiceField(choices=MembershipSource.choices)  # type: ignore[assignment]
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)


class LearnerAddSerializer(serializers.Serializer):
    email = serializers.EmailField()


# The learner's own contracts


class LearnerRunSerializer(serializers.Serializer):
    courseware_id = serializers.CharField()
    title = serializers.CharField()
    start = serializers.DateTimeField(allow_null=True)
    end = serializers.DateTimeField(allow_null=True)
    enrolled = serializers.BooleanField()
    product_url = serializers.SerializerMethodField(
        help_text="Where to buy the run (priced contracts, with your code); null if none."
    )

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_product_url(self, run) -> str | None:
        return product_cart_url(run.product_id) if run.product_id else None


class LearnerContractSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    organization_id = serializers.IntegerField(allow_null=True)
    organization = serializers.CharField(allow_null=True)
    active = serializers.BooleanField()
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    free = serializers.BooleanField(help_text="Runs are enrolled in without paying.")
    joined_on = serializers.DateTimeField()
    runs = LearnerRunSerializer(many=True)
