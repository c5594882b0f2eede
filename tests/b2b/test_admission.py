"""admission_refusal: the one rule for "can this learner join this contract now?"."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from b2b.enums import AdmissionRefusal
from b2b.exceptions import ContractNotFound, MembershipRefused
from b2b.services.memberships import admission_refusal, attach_learner, refusal_message
from tests.support import factories as f

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = timedelta(days=1)


def _full(max_learners: int = 1, **terms):
    contract = f.ContractPageFactory(max_learners=max_learners, **terms)
    members = [f.ContractMembershipFactory(contract=contract).user for _ in range(max_learners)]
    return contract, members


def test_an_open_contract_admits(site_tree):
    assert admission_refusal(contract=f.ContractPageFactory(), user=f.UserFactory()) is None


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        ({"active": False}, AdmissionRefusal.INACTIVE),
        ({"contract_start": TODAY + DAY}, AdmissionRefusal.OUTSIDE_DATES),
        ({"contract_end": TODAY - DAY}, AdmissionRefusal.OUTSIDE_DATES),
        (
            {"contract_start": TODAY - 9 * DAY, "contract_end": TODAY - DAY},
            AdmissionRefusal.OUTSIDE_DATES,
        ),
    ],
)
def test_inactive_and_out_of_dates_contracts_refuse(site_tree, terms, reason):
    contract = f.ContractPageFactory(**terms)
    assert admission_refusal(contract=contract) == reason
    # The rule is the same for members: a member cannot use an inactive or closed contract.
    member = f.ContractMembershipFactory(contract=contract).user
    assert admission_refusal(contract=contract, user=member) == reason


def test_both_dates_are_inclusive(site_tree):
    contract = f.ContractPageFactory(contract_start=TODAY, contract_end=TODAY)
    assert admission_refusal(contract=contract) is None
    bounded = f.ContractPageFactory(contract_start=TODAY - DAY, contract_end=TODAY + DAY)
    assert [admission_refusal(contract=bounded, day=TODAY + n * DAY) for n in (-2, -1, 1, 2)] == [
        AdmissionRefusal.OUTSIDE_DATES,
        None,
        None,
        AdmissionRefusal.OUTSIDE_DATES,
    ]


def test_cap_admits_the_last_learner_and_refuses_the_next(site_tree):
    contract = f.ContractPageFactory(max_learners=2)
    f.ContractMembershipFactory(contract=contract)
    assert admission_refusal(contract=contract, user=f.UserFactory()) is None
    f.ContractMembershipFactory(contract=contract)
    assert admission_refusal(contract=contract, user=f.UserFactory()) == AdmissionRefusal.FULL
    assert admission_refusal(contract=contract) == AdmissionRefusal.FULL


def test_members_of_a_full_contract_are_not_refused_by_the_cap(site_tree):
    contract, (member,) = _full()
    assert admission_refusal(contract=contract, user=member) is None
    assert admission_refusal(contract=contract, member=True) is None
    # Without a user and without being told, the learner is a newcomer.
    assert admission_refusal(contract=contract) == AdmissionRefusal.FULL
    assert admission_refusal(contract=contract, user=member, member=False) == (
        AdmissionRefusal.FULL
    )


def test_inactive_is_reported_before_dates_and_cap(site_tree):
    contract, _ = _full(active=False, contract_end=TODAY - DAY)
    assert admission_refusal(contract=contract) == AdmissionRefusal.INACTIVE
    contract, _ = _full(contract_end=TODAY - DAY)
    assert admission_refusal(contract=contract) == AdmissionRefusal.OUTSIDE_DATES


def test_free_only(site_tree):
    priced = f.ContractPageFactory(enrollment_fixed_price=Decimal("10.00"), active=False)
    zero = f.ContractPageFactory(enrollment_fixed_price=Decimal("0.00"))
    assert admission_refusal(contract=priced, free_only=True) == AdmissionRefusal.PRICED
    assert admission_refusal(contract=priced) == AdmissionRefusal.INACTIVE
    assert admission_refusal(contract=zero, free_only=True) is None
    assert admission_refusal(contract=f.ContractPageFactory(), free_only=True) is None


def test_members_only(site_tree):
    contract, (member,) = _full(enrollment_fixed_price=Decimal("5.00"))
    stranger = f.UserFactory()
    options = {"members_only": True, "free_only": True}
    assert admission_refusal(contract=contract, user=stranger, **options) == (
        AdmissionRefusal.NOT_MEMBER
    )
    assert admission_refusal(contract=contract, **options) == AdmissionRefusal.NOT_MEMBER
    assert admission_refusal(contract=contract, user=member, **options) == AdmissionRefusal.PRICED
    assert admission_refusal(contract=contract, user=member, members_only=True) is None


def test_membership_and_learners_are_read_only_when_a_rule_needs_them(site_tree):
    user = f.UserFactory()
    uncapped = f.ContractPageFactory()
    capped, _ = _full(max_learners=3)
    with CaptureQueriesContext(connection) as queries:
        assert admission_refusal(contract=uncapped, user=user) is None
        assert admission_refusal(contract=capped, member=True) is None
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        assert admission_refusal(contract=capped, user=user) == AdmissionRefusal.FULL
    assert len(queries) == 2  # is the user a member? how many seats are taken?


def test_by_id_reads_the_contract_in_one_query(site_tree):
    contract = f.ContractPageFactory(active=False)
    with CaptureQueriesContext(connection) as queries:
        reason = admission_refusal(contract_id=contract.pk, lock=True)
    assert reason == AdmissionRefusal.INACTIVE
    assert len(queries) == 1
    with pytest.raises(ContractNotFound, match="No contract has id 987654"):
        admission_refusal(contract_id=987654)


@pytest.mark.postgres  # SQLite has no row locks (a write locks the whole database)
def test_by_id_locks_the_contract(site_tree):
    contract = f.ContractPageFactory(active=False)
    with CaptureQueriesContext(connection) as queries:
        admission_refusal(contract_id=contract.pk, lock=True)
    (query,) = queries.captured_queries
    assert query["sql"].endswith("FOR NO KEY UPDATE")  # the lock order's mode for a change


@pytest.mark.parametrize("given", [{}, {"contract": "both", "contract_id": 1}])
def test_the_contract_is_given_exactly_once(site_tree, given):
    if given.get("contract") == "both":
        given["contract"] = f.ContractPageFactory()
    with pytest.raises(ValueError, match="exactly one of contract and contract_id"):
        admission_refusal(**given)


def test_messages_for_staff(site_tree):
    contract = f.ContractPageFactory(title="Acme 2026", max_learners=40)
    assert [refusal_message(contract, reason) for reason in AdmissionRefusal] == [
        "Contract 'Acme 2026' does not include this learner",
        "Contract 'Acme 2026' has a price",
        "Contract 'Acme 2026' is not active",
        "Contract 'Acme 2026' is outside its dates",
        "Contract 'Acme 2026' is full (40 learners)",
    ]


def test_attach_refusal_carries_the_reason(site_tree):
    contract, _ = _full(title="Small")
    with pytest.raises(MembershipRefused) as refused:
        attach_learner(user=f.UserFactory(), contract_id=contract.pk, source="code")
    assert refused.value.reason == AdmissionRefusal.FULL
    assert str(refused.value) == "Contract 'Small' is full (1 learners)"
