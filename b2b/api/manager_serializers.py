"""Shapes of the manager API (/api/v1/manager/): inputs are checked for shape only (the
invitation service decides who is invited); outputs read the selectors' typed rows."""

from rest_framework import serializers

from b2b.enums import EmailState, InvitationState, InviteJobState, InviteOutcome, MembershipSource
from b2b.models import INVALID_NAME

ROW_OUTCOMES = [*InviteOutcome.values, INVALID_NAME]


class ManagedOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    org_key = serializers.CharField()
    contracts = serializers.IntegerField(help_text="How many contracts it has.")


class SeatsSerializer(serializers.Serializer):
    used = serializers.IntegerField(help_text="Learners who joined.")
    cap = serializers.IntegerField(allow_null=True, help_text="null: no cap.")
    open_invitations = serializers.IntegerField(help_text="Seats held by open invitations.")
    left = serializers.IntegerField(
        allow_null=True, help_text="Seats for new invitations (cap - used - open); null: no cap."
    )


class ManagedCodesSerializer(serializers.Serializer):
    usable = serializers.IntegerField(help_text="Active and never redeemed.")
    redeemed = serializers.IntegerField()


class ManagedContractSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization_id = serializers.IntegerField()
    name = serializers.CharField()
    active = serializers.BooleanField()
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True, help_text="The last day, inclusive.")
    days_left = serializers.IntegerField(
        allow_null=True, help_text="Days to the end, the end day counting; null: no end."
    )
    seats = SeatsSerializer()
    codes = ManagedCodesSerializer()


class ContractFilterSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class LearnerSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(allow_blank=True)
    joined_on = serializers.DateTimeField()
    # A field named like Field.source: DRF's metaclass takes declared fields off the class, which
    # the stubs cannot see.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=MembershipSource.choices, help_text="How they joined."
    )
    runs = serializers.ListField(
        child=serializers.CharField(), help_text="The contract's runs they are enrolled in."
    )


class LearnerSearchSerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


class EmailDeliverySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=EmailState.choices)
    error = serializers.CharField(allow_blank=True, help_text="The SMTP answer of a failure.")


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contract_id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(allow_blank=True)
    state = serializers.ChoiceField(choices=InvitationState.choices)
    code = serializers.CharField(allow_null=True, help_text="The enrollment code it hands out.")
    invited_by = serializers.EmailField(allow_null=True)
    invited_on = serializers.DateTimeField(source="created_on")
    reminders_sent = serializers.IntegerField()
    last_reminded_on = serializers.DateTimeField(allow_null=True)
    revoked_on = serializers.DateTimeField(allow_null=True)
    redeemed_by = serializers.EmailField(
        allow_null=True, help_text="Who used the code (whatever address they signed up with)."
    )
    redeemed_on = serializers.DateTimeField(allow_null=True)
    last_email = EmailDeliverySerializer(
        allow_null=True, help_text="The last message sent about it; null before any."
    )


class InvitationFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=InvitationState.choices, required=False)


class InviteSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class BulkRowSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254, allow_blank=True)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class BulkJsonSerializer(serializers.Serializer):
    rows = BulkRowSerializer(many=True, allow_empty=False)


class BulkFileSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text='A CSV file: a header naming an "email" column (and optionally "name"), '
        "or one e-mail address at the start of each line."
    )


class RemindedSerializer(serializers.Serializer):
    reminded = serializers.IntegerField(help_text="How many open invitations were reminded.")
    in_cooldown = serializers.IntegerField(
        help_text="How many open invitations were left alone: e-mailed less than the cooldown "
        "(B2B_INVITATION_REMIND_COOLDOWN_SECONDS) ago."
    )


class OutcomeCountSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    # Named like Field.label; DRF's metaclass takes declared fields off the class (not in stubs).
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()


class JobRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The row's line in the file (or its place, from 1).")
    email = serializers.CharField(allow_blank=True)
    name = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(
        choices=[*ROW_OUTCOMES, ""], help_text='"" while the job has not reached the row.'
    )
    result = serializers.CharField(source="outcome_label", help_text="The outcome in words.")
    invitation_id = serializers.IntegerField(allow_null=True)


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contract_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=InviteJobState.choices)
    rows = serializers.IntegerField(help_text="Rows received.")
    done = serializers.IntegerField(help_text="Rows decided so far, of total.")
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    finished = serializers.BooleanField()
    created_on = serializers.DateTimeField()
    finished_on = serializers.DateTimeField(allow_null=True)
    summary = OutcomeCountSerializer(many=True, help_text="How many rows ended in each outcome.")
    results_url = serializers.URLField(help_text="Every row's result, a page at a time.")
    results = JobRowSerializer(
        many=True,
        allow_null=True,
        help_text="Every row's result, for a finished job of at most B2B_INVITE_INLINE_ROWS "
        "rows; null otherwise (follow results_url).",
    )
