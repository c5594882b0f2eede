"""Shapes of the manager API (/api/v1/manager/): inputs are checked for shape only (the
invitation service decides who is invited); outputs read the selectors' typed rows."""

import re
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from b2b.enums import EmailState, InvitationState, InviteJobState, InviteOutcome, MembershipSource
from b2b.models import INVALID_NAME
from b2b.selectors.progress import STAGES
from b2b.selectors.progress_rows import DEFAULT_SORT, FILTERS, SORTS

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


# Progress (manager_progress_views): the funnel and a row per learner and contract run.


class FunnelStageSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=[key for key, _ in STAGES])
    # Named like Field.label; DRF's metaclass takes declared fields off the class (not in stubs).
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField(
        allow_null=True,
        help_text="Learners at this stage; null: fewer than B2B_PROGRESS_MIN_GROUP, not shown "
        "(a contract that shows aggregates only).",
    )
    share = serializers.IntegerField(
        allow_null=True, help_text="Percent of the seats (of the joined when uncapped)."
    )
    text = serializers.CharField(help_text='The stage in words: "Started: 12 (60%)".')


class ProgressSummarySerializer(serializers.Serializer):
    contract_id = serializers.IntegerField()
    seats = serializers.IntegerField(allow_null=True, help_text="The cap; null: no cap.")
    per_learner = serializers.BooleanField(
        help_text="Whether the rows (progress/) may be read; false: aggregates only."
    )
    stages = FunnelStageSerializer(
        many=True, help_text="invited, joined, enrolled, started, passed, certified."
    )
    completion_rate = serializers.IntegerField(
        allow_null=True, help_text="Percent of the enrolled who passed or hold a certificate."
    )
    needs_attention = serializers.IntegerField(
        allow_null=True, help_text="Rows (a learner in a run) that need attention now."
    )
    unmapped = serializers.IntegerField(
        allow_null=True,
        help_text="Open edX learners not matched to an account here (staff only; null for "
        "managers).",
    )
    as_of = serializers.DateTimeField(
        allow_null=True, help_text="The latest Open edX answer behind the figures; null: none yet."
    )
    text = serializers.CharField(help_text="The funnel in one sentence.")


class ProgressLearnerSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(
        allow_null=True, help_text="null: the Open edX learner matches no account here."
    )
    name = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    edx_username = serializers.CharField()


class CertificateSerializer(serializers.Serializer):
    status = serializers.CharField(
        allow_blank=True,
        help_text='Open edX\'s status: "downloadable" is held; "" none reported.',
    )
    url = serializers.CharField(allow_blank=True)
    created_on = serializers.DateTimeField(allow_null=True)


class ProgressRowSerializer(serializers.Serializer):
    learner = ProgressLearnerSerializer()
    run = serializers.CharField(help_text="The run's courseware id.")
    mode = serializers.CharField(allow_blank=True)
    active = serializers.BooleanField(help_text="Whether the enrollment is active.")
    enrolled_on = serializers.DateTimeField(allow_null=True)
    grade_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=0,
        max_value=1,
        coerce_to_string=False,
        allow_null=True,
        help_text="The current grade, 0 to 1, as Open edX gives it; null: no grade yet.",
    )
    letter_grade = serializers.CharField(allow_blank=True)
    passed = serializers.BooleanField()
    first_passed_on = serializers.DateTimeField(allow_null=True)
    certificate = CertificateSerializer()
    needs_attention = serializers.BooleanField()
    changed_on = serializers.DateTimeField(help_text="When a value last changed.")
    as_of = serializers.DateTimeField(help_text="When Open edX last reported it.")


class FeedRowSerializer(ProgressRowSerializer):
    contract_id = serializers.IntegerField()


class ProgressFilterSerializer(serializers.Serializer):
    show = serializers.ChoiceField(
        choices=list(FILTERS), required=False, allow_blank=True, default=""
    )
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    sort = serializers.ChoiceField(
        choices=[*SORTS, *(f"-{key}" for key in SORTS)],
        required=False,
        allow_blank=True,
        default=DEFAULT_SORT,
    )


class ProgressFeedSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(
        help_text="Pass it as updated_since next time: every row changed after it is returned then."
    )
    next = serializers.URLField(allow_null=True, help_text="The next page; null: the last.")
    previous = serializers.URLField(allow_null=True, help_text="Always null: read forwards.")
    results = FeedRowSerializer(many=True)


# A "+" of a query string not percent-encoded arrives as a space: "10:00:00 01:00".
_SPACED_OFFSET = re.compile(r" (\d\d(:?\d\d)?)$")


class ProgressFeedQuerySerializer(serializers.Serializer):
    updated_since = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text="An ISO 8601 timestamp with its offset (Z or +01:00): the as_of of the last "
        "read. Absent: every row.",
    )

    def validate_updated_since(self, value: str) -> datetime | None:
        value = _SPACED_OFFSET.sub(r"+\1", value.strip())
        if not value:
            return None
        example = "for example 2026-11-27T10:00:00Z"
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            raise serializers.ValidationError(f"not an ISO 8601 timestamp ({example}).")
        if moment.tzinfo is None:
            raise serializers.ValidationError(
                f"give the timestamp's offset from UTC (Z or +01:00; {example})."
            )
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise serializers.ValidationError(f"out of range ({example}).") from None
