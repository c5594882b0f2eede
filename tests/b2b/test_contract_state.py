"""A contract's state (active, scheduled, ended, inactive), defined once for a row and a set;
b2b_list contracts --state; deactivation keeps every piece of data."""

import json
from datetime import date, timedelta
from itertools import product

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from b2b.enums import ContractState
from b2b.models import ContractMembership, ContractPage
from courses.models import CourseRun
from ecommerce.models import Discount, Product
from ecommerce.selectors import with_code_terms
from tests.b2b.helpers import contract_with_products, reconcile, redeem
from tests.support import factories as f

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 15)
BEFORE, AFTER = DAY - timedelta(days=1), DAY + timedelta(days=1)


@pytest.fixture
def every_kind(site_tree):
    """A contract for every combination of active and dates around DAY (start <= end)."""
    org = f.OrganizationPageFactory()
    contracts = []
    for active, start, end in product(
        (True, False), (None, BEFORE, DAY, AFTER), (None, BEFORE, DAY, AFTER)
    ):
        if start and end and start > end:
            continue
        contracts.append(
            f.ContractPageFactory(parent=org, active=active, contract_start=start, contract_end=end)
        )
    return contracts


def test_row_and_set_agree(every_kind):
    by_row = {state: set() for state in ContractState}
    for contract in every_kind:
        by_row[contract.state_on(DAY)].add(contract.pk)
    for state in ContractState:
        in_state = set(ContractPage.objects.in_state(state, DAY).values_list("pk", flat=True))
        assert in_state == by_row[state], state
    assert sum(len(ids) for ids in by_row.values()) == len(every_kind)  # one state each
    assert {state: len(ids) for state, ids in by_row.items()} == {
        ContractState.INACTIVE: 13,
        ContractState.SCHEDULED: 2,  # starts AFTER: ends AFTER or open
        ContractState.ENDED: 2,  # ends BEFORE: starts BEFORE or open
        ContractState.ACTIVE: 9,
    }


@pytest.mark.parametrize(
    ("active", "start", "end", "state"),
    [
        (True, DAY, DAY, ContractState.ACTIVE),  # both ends inclusive
        (True, None, None, ContractState.ACTIVE),
        (True, AFTER, None, ContractState.SCHEDULED),
        (True, None, BEFORE, ContractState.ENDED),
        (False, DAY, DAY, ContractState.INACTIVE),
        (False, None, BEFORE, ContractState.INACTIVE),
    ],
)
def test_states(active, start, end, state):
    contract = ContractPage(active=active, contract_start=start, contract_end=end)
    assert contract.state_on(DAY) == state
    # Active means what admission means: active and open on the day.
    assert (state == ContractState.ACTIVE) == (contract.active and contract.is_open_on(DAY))


def test_list_filters_by_state_today(run_command, site_tree):
    today = timezone.localdate()
    org = f.OrganizationPageFactory(org_key="STATE")
    running = f.ContractPageFactory(parent=org, contract_end=today)
    later = f.ContractPageFactory(parent=org, contract_start=today + timedelta(days=1))
    f.ContractPageFactory(parent=org, contract_end=today - timedelta(days=1))
    f.ContractPageFactory(parent=org, active=False)

    def listed(state):
        out, _ = run_command(
            "b2b_list", "contracts", "--org", "STATE", "--state", state, "--format", "json"
        )
        return [(row["id"], row["state"]) for row in json.loads(out)]

    assert listed("active") == [(running.pk, "active")]
    assert listed("scheduled") == [(later.pk, "scheduled")]
    assert [state for _, state in listed("ended")] == ["ended"]
    assert [state for _, state in listed("inactive")] == ["inactive"]


def test_state_option_is_checked(run_command, site_tree):
    with pytest.raises(CommandError, match="argument --state: invalid choice: 'over'"):
        run_command("b2b_list", "contracts", "--state", "over")
    with pytest.raises(CommandError, match=r"^--state filters the listing; it does not go with"):
        run_command("b2b_list", "contracts", "--codes", "1", "--state", "active")


def test_state_filter_query_count_is_constant(run_command, site_tree):
    org = f.OrganizationPageFactory()

    def count():
        with CaptureQueriesContext(connection) as queries:
            run_command("b2b_list", "contracts", "--state", "ended", "--format", "json")
        return len(queries)

    f.ContractPageFactory(parent=org, contract_end=date(2020, 1, 1))
    first = count()
    for _ in range(5):
        contract, _ = contract_with_products(parent=org, max_learners=2)
        contract.contract_end = date(2020, 1, 1)
        contract.save()
        reconcile(contract)
    assert count() == first


def _data(contract):
    runs = CourseRun.objects.filter(b2b_contract=contract)
    products = Product.objects.filter(object_id__in=runs.values("pk"))
    codes = with_code_terms(Discount.objects.filter(b2b_contract=contract))
    return {
        "members": sorted(
            ContractMembership.objects.filter(contract=contract).values_list("user_id", flat=True)
        ),
        "runs": sorted(runs.values_list("courseware_id", flat=True)),
        "products": sorted(products.values_list("pk", "is_active", "price")),
        "codes": sorted(codes.values_list("discount_code", "is_active", "price")),
        "courses": sorted(contract.courses.values_list("readable_id", flat=True)),
    }


def test_deactivation_keeps_all_data(run_command, site_tree, django_capture_on_commit_callbacks):
    contract, _ = contract_with_products(max_learners=3)
    reconcile(contract)
    contract.courses.add(f.CourseFactory())
    ContractMembership.objects.create(user=f.UserFactory(), contract=contract, source="code")
    redeem(Discount.objects.filter(b2b_contract=contract).first())
    before = _data(contract)
    assert len(before["codes"]) == 6 and before["members"] and before["runs"]

    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_command("b2b_contract", "modify", str(contract.pk), "--inactive")
    assert out == "Changed active: True -> False\n"
    # A reconciliation run meanwhile (the sweep, by hand) keeps the codes too.
    run_command("b2b_contract", "sync-codes", str(contract.pk))
    assert _data(contract) == before
    assert ContractPage.objects.get(pk=contract.pk).state_on(DAY) == ContractState.INACTIVE

    with django_capture_on_commit_callbacks(execute=True):
        run_command("b2b_contract", "modify", str(contract.pk), "--active")
    assert _data(contract) == before
