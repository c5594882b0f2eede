"""A contract's terms as row properties and as queryset filters, and its organization."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from b2b.exceptions import InvalidContractTerms, OrganizationConflict
from b2b.models import ContractPage, OrganizationPage
from b2b.services.contracts.terms import ContractChange, create_contract, modify_contract
from b2b.services.organizations.create import create_organization
from tests.support import factories as f

pytestmark = pytest.mark.django_db

START, END = date(2026, 3, 1), date(2026, 3, 31)


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (START - timedelta(days=1), False),
        (START, True),
        (END, True),  # the end date is the contract's last day
        (END + timedelta(days=1), False),
    ],
)
def test_open_on_includes_both_ends(site_tree, day, open_):
    contract = f.ContractPageFactory(contract_start=START, contract_end=END)
    assert contract.is_open_on(day) is open_
    assert _ids(ContractPage.objects.open_on(day)) == ({contract.pk} if open_ else set())


def test_open_on_with_missing_dates(site_tree):
    endless = f.ContractPageFactory(contract_start=START)
    no_start = f.ContractPageFactory(contract_end=END)
    undated = f.ContractPageFactory()
    far_past, far_future = date(1990, 1, 1), date(2990, 1, 1)
    assert _ids(ContractPage.objects.open_on(far_past)) == {no_start.pk, undated.pk}
    assert _ids(ContractPage.objects.open_on(far_future)) == {endless.pk, undated.pk}
    assert [c.is_open_on(far_past) for c in (endless, no_start, undated)] == [False, True, True]
    assert [c.is_open_on(far_future) for c in (endless, no_start, undated)] == [True, False, True]


@pytest.mark.parametrize(
    ("price", "free"),
    [(None, True), (Decimal("0"), True), (Decimal("0.00"), True), (Decimal("0.01"), False)],
)
def test_free_means_no_price_or_zero(site_tree, price, free):
    contract = f.ContractPageFactory(enrollment_fixed_price=price)
    contract.refresh_from_db()
    assert contract.is_free is free
    assert _ids(ContractPage.objects.free()) == ({contract.pk} if free else set())


def test_active_and_sso_filters(site_tree):
    sso = f.ContractPageFactory(integration_type="sso")
    inactive_sso = f.ContractPageFactory(integration_type="sso", active=False)
    plain = f.ContractPageFactory()
    assert _ids(ContractPage.objects.active()) == {sso.pk, plain.pk}
    assert _ids(ContractPage.objects.sso()) == {sso.pk, inactive_sso.pk}
    assert _ids(ContractPage.objects.sso().active()) == {sso.pk}
    assert (sso.is_sso, plain.is_sso) == (True, False)


def test_contracts_of_an_organization(site_tree):
    mit, acme = f.OrganizationPageFactory(), f.OrganizationPageFactory()
    mine = {f.ContractPageFactory(parent=mit).pk for _ in range(2)}
    f.ContractPageFactory(parent=acme)
    assert _ids(ContractPage.objects.of_organization(mit)) == mine
    assert _ids(ContractPage.objects.of_organization(f.OrganizationPageFactory())) == set()


def test_organization_is_the_parent_page_read_once(site_tree):
    org = f.OrganizationPageFactory()
    contract = ContractPage.objects.get(pk=f.ContractPageFactory(parent=org).pk)
    with CaptureQueriesContext(connection) as queries:
        first = contract.organization
        again = contract.organization
    assert len(queries) == 1
    assert type(first) is OrganizationPage
    assert first.pk == org.pk and again is first


def test_a_listing_reads_every_organization_in_one_query(site_tree):
    orgs = [f.OrganizationPageFactory() for _ in range(3)]
    expected = {f.ContractPageFactory(parent=org).pk: org.pk for org in orgs for _ in range(2)}
    with CaptureQueriesContext(connection) as queries:
        contracts = list(ContractPage.objects.prefetch_related("organization"))
        found = {c.pk: c.organization.pk for c in contracts}
    assert len(queries) == 2  # the contracts, then their organizations
    assert found == expected


def test_prefetch_takes_a_queryset_of_organizations(site_tree):
    org = f.OrganizationPageFactory(title="Named")
    f.ContractPageFactory(parent=org)
    only = OrganizationPage.objects.only("pk", "path", "title")
    (contract,) = ContractPage.objects.prefetch_related(Prefetch("organization", queryset=only))
    with CaptureQueriesContext(connection) as queries:
        assert contract.organization.title == "Named"
    assert len(queries) == 0


def test_contract_counts_of_organizations_in_one_query(site_tree):
    empty, one, two = (f.OrganizationPageFactory() for _ in range(3))
    f.ContractPageFactory(parent=one)
    for _ in range(2):
        f.ContractPageFactory(parent=two)
    with CaptureQueriesContext(connection) as queries:
        counts = {o.pk: o.contract_count for o in OrganizationPage.objects.with_contract_counts()}
    assert len(queries) == 1
    assert counts == {empty.pk: 0, one.pk: 1, two.pk: 2}


def test_services_refuse_caps_and_names_the_columns_cannot_hold(site_tree):
    """Whoever calls them (a command, the API), the services answer with a domain error, never
    a validation traceback from the page's columns."""
    org = f.OrganizationPageFactory()
    contract = f.ContractPageFactory(parent=org, max_learners=5)
    too_big = "The learner cap must be at most 2147483647."
    with pytest.raises(InvalidContractTerms) as refused:
        create_contract(organization=org, name="X", integration_type="non-sso", max_learners=2**31)
    assert str(refused.value) == too_big
    with pytest.raises(InvalidContractTerms) as refused:
        modify_contract(contract_id=contract.pk, change=ContractChange(max_learners=2**31))
    assert str(refused.value) == too_big
    with pytest.raises(InvalidContractTerms) as refused:
        create_contract(organization=org, name="N" * 256, integration_type="non-sso")
    assert str(refused.value) == "The contract name has 256 characters; at most 255 fit"
    with pytest.raises(OrganizationConflict) as refused:
        create_organization(name="N" * 256)
    assert str(refused.value) == "The organization name has 256 characters; at most 255 fit"

    assert list(ContractPage.objects.values_list("pk", "max_learners")) == [(contract.pk, 5)]
    assert list(OrganizationPage.objects.values_list("pk", flat=True)) == [org.pk]
