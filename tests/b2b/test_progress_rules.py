"""The progress rules (started, certified, needs attention) and the read side built on them:
the funnel, the completion rate, the privacy of small groups, the rows' filters."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from b2b.enums import InvitationState, ProgressVisibility
from b2b.models import AttentionCutoffs, Invitation, LearnerProgress
from b2b.selectors.progress import progress_summaries, progress_summary
from b2b.selectors.progress_rows import progress_rows
from tests.support.factories import (
    ContractMembershipFactory,
    ContractPageFactory,
    CourseRunFactory,
    OrganizationPageFactory,
    UserFactory,
)
from tests.support.progress import progress_row

pytestmark = pytest.mark.django_db

NOW = timezone.now()
CUTOFFS = AttentionCutoffs.at(NOW)


def _row(contract, run, username, *, user=None, **fields):
    fields.setdefault("enrolled_on", NOW - timedelta(days=1))
    return progress_row(contract, run, username, user=user, now=NOW, **fields)


@pytest.fixture
def contract(site_tree):
    return ContractPageFactory(max_learners=20)


@pytest.fixture
def run(contract):
    return CourseRunFactory(b2b_contract=contract)


def test_a_grade_of_zero_is_not_started_and_any_grade_above_is(contract, run):
    zero = _row(contract, run, "zero", grade_percent=Decimal("0"))
    some = _row(contract, run, "some", grade_percent=Decimal("0.0100"))
    assert not zero.is_started
    assert some.is_started
    assert set(LearnerProgress.objects.started().values_list("edx_username", flat=True)) == {"some"}
    assert set(LearnerProgress.objects.not_started().values_list("edx_username", flat=True)) == {
        "zero"
    }


def test_a_certificate_that_is_not_revoked_counts_even_without_a_pass(contract, run):
    certified = _row(contract, run, "cert", cert_status="downloadable", passed=False)
    revoked = _row(contract, run, "revoked", cert_status="unavailable", passed=False)
    assert certified.is_certified and certified.is_started and certified.is_completed
    assert not revoked.is_certified and not revoked.is_started
    assert list(LearnerProgress.objects.certified()) == [certified]
    assert list(LearnerProgress.objects.completed()) == [certified]


@pytest.mark.parametrize(
    ("fields", "flagged"),
    [
        # enrolled 15 days ago, not started: after the 14 days
        ({"enrolled_on": NOW - timedelta(days=15)}, True),
        ({"enrolled_on": NOW - timedelta(days=13)}, False),
        # started, not passed, unchanged for 31 days: after the 30 days
        ({"grade_percent": Decimal("0.3"), "changed_on": NOW - timedelta(days=31)}, True),
        ({"grade_percent": Decimal("0.3"), "changed_on": NOW - timedelta(days=29)}, False),
        # passed long ago: done, not stuck
        (
            {"grade_percent": Decimal("0.9"), "passed": True, "changed_on": NOW - timedelta(99)},
            False,
        ),
        # unenrolled: not the manager's to chase
        ({"enrolled_on": NOW - timedelta(days=40), "active": False}, False),
    ],
)
def test_needs_attention_the_query_and_the_row_agree(contract, run, fields, flagged):
    row = _row(contract, run, "learner", **fields)
    assert row.needs_attention(CUTOFFS) is flagged
    assert LearnerProgress.objects.needing_attention(CUTOFFS).exists() is flagged
    (listed,) = progress_rows(contract.pk, CUTOFFS)
    assert listed.attention is flagged


def test_the_funnel_counts_learners_once_whatever_their_runs(contract, run):
    second = CourseRunFactory(b2b_contract=contract)
    users = UserFactory.create_batch(6)
    for user in users:
        ContractMembershipFactory(contract=contract, user=user)
    Invitation.objects.create(contract=contract, email="new@example.com", token="t1")
    Invitation.objects.create(
        contract=contract, email="gone@example.com", token="t2", state=InvitationState.REVOKED
    )
    for i, user in enumerate(users):
        _row(contract, run, f"u{i}", user=user, grade_percent=Decimal("0.5") if i < 4 else 0)
        _row(contract, second, f"u{i}", user=user, passed=i < 2, grade_percent=Decimal("0.8"))
    _row(contract, run, "stranger", cert_status="downloadable")  # an unmapped Open edX learner

    summary = progress_summary(contract, CUTOFFS, staff=True)

    counts = {s.key: s.count for s in summary.stages}
    # invited: one open invitation besides the six members who came by other ways
    assert counts == {
        "invited": 6,
        "joined": 6,
        "enrolled": 7,
        "started": 7,
        "passed": 2,
        "certified": 1,
    }
    assert summary.stage("joined").share == 30  # of the 20 seats
    assert summary.completion_rate == round(100 * 3 / 7)
    assert summary.unmapped == 1
    assert "Passed: 2 (10%)" in summary.text


def test_aggregates_only_hides_groups_under_five_and_staff_still_see_them(contract, run):
    contract.progress_visibility = ProgressVisibility.AGGREGATES
    contract.save()
    for i in range(6):
        user = UserFactory()
        ContractMembershipFactory(contract=contract, user=user)
        _row(contract, run, f"u{i}", user=user, passed=i < 2)

    manager_view = progress_summary(contract, CUTOFFS)
    staff_view = progress_summary(contract, CUTOFFS, staff=True)

    assert not manager_view.per_learner
    assert manager_view.stage("joined").count == 6
    assert manager_view.stage("passed").count is None
    assert "Passed: fewer than 5" in manager_view.text
    assert manager_view.unmapped is None
    # 2 of 6 completed: the rate would tell the hidden count
    assert manager_view.completion_rate is None and staff_view.completion_rate == 33
    assert staff_view.stage("passed").count == 2 and staff_view.per_learner


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("", {"new", "stuck", "passed", "cert"}),
        ("not-started", {"new", "stuck"}),
        ("needs-attention", {"stuck"}),
        ("passed", {"passed"}),
        ("certified", {"cert"}),
    ],
)
def test_the_filters(contract, run, show, expected):
    _row(contract, run, "new")
    _row(contract, run, "stuck", enrolled_on=NOW - timedelta(days=20))
    _row(contract, run, "passed", passed=True, grade_percent=Decimal("0.7"))
    _row(contract, run, "cert", cert_status="downloadable")
    rows = progress_rows(contract.pk, CUTOFFS, show=show)
    assert {r.edx_username for r in rows} == expected


def test_search_and_sort(contract, run):
    ann = UserFactory(name="Ann Archer", email="ann@example.com")
    _row(contract, run, "zed", user=ann, grade_percent=Decimal("0.2"))
    _row(contract, run, "amy", grade_percent=Decimal("0.9"))
    assert [r.edx_username for r in progress_rows(contract.pk, CUTOFFS, search="archer")] == ["zed"]
    _row(contract, run, "new")  # no grade yet: last whichever the direction and the database
    by_grade = progress_rows(contract.pk, CUTOFFS, sort="-grade")
    assert [r.edx_username for r in by_grade] == ["amy", "zed", "new"]
    by_grade = progress_rows(contract.pk, CUTOFFS, sort="grade")
    assert [r.edx_username for r in by_grade] == ["zed", "amy", "new"]


def test_the_overview_takes_three_queries_whatever_the_number_of_contracts(site_tree):
    org = OrganizationPageFactory()
    contracts = [ContractPageFactory(parent=org) for _ in range(4)]
    for c in contracts:
        run = CourseRunFactory(b2b_contract=c)
        _row(c, run, "someone", passed=True)
    with CaptureQueriesContext(connection) as queries:
        summaries = progress_summaries(contracts, CUTOFFS)
    assert len(queries) == 3
    assert all(s.stage("passed").count == 1 for s in summaries.values())
