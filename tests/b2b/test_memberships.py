from datetime import timedelta

import pytest
from django.utils import timezone

from b2b.exceptions import ContractNotFound, MembershipRefused
from b2b.models import ContractMembership
from b2b.services.memberships import attach_learner, detach_learner
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def test_attach_is_idempotent_and_records_how(site_tree):
    contract = f.ContractPageFactory(max_learners=1)
    staff, learner = f.UserFactory(is_staff=True), f.UserFactory()
    first = attach_learner(user=learner, contract_id=contract.pk, source="staff", created_by=staff)
    again = attach_learner(user=learner, contract_id=contract.pk, source="code")
    assert first.created and not again.created
    assert again.membership == first.membership
    assert (first.membership.source, first.membership.created_by) == ("staff", staff)


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"active": False}, "is not active"),
        ({"contract_start": timezone.localdate() + timedelta(days=1)}, "outside its dates"),
        ({"contract_end": timezone.localdate() - timedelta(days=1)}, "outside its dates"),
    ],
)
def test_refusals(site_tree, terms, message):
    contract = f.ContractPageFactory(**terms)
    with pytest.raises(MembershipRefused, match=message):
        attach_learner(user=f.UserFactory(), contract_id=contract.pk, source="code")
    assert not ContractMembership.objects.exists()


def test_end_date_is_inclusive(site_tree):
    contract = f.ContractPageFactory(contract_end=timezone.localdate())
    assert attach_learner(user=f.UserFactory(), contract_id=contract.pk, source="sso").created


def test_cap(site_tree):
    contract = f.ContractPageFactory(max_learners=2)
    for _ in range(2):
        attach_learner(user=f.UserFactory(), contract_id=contract.pk, source="code")
    with pytest.raises(MembershipRefused, match=r"is full \(2 learners\)"):
        attach_learner(user=f.UserFactory(), contract_id=contract.pk, source="code")


def test_unknown_contract_and_detach(site_tree):
    user = f.UserFactory()
    with pytest.raises(ContractNotFound):
        attach_learner(user=user, contract_id=987654, source="code")
    contract = f.ContractPageFactory()
    attach_learner(user=user, contract_id=contract.pk, source="staff")
    assert detach_learner(user=user, contract_id=contract.pk) is True
    assert detach_learner(user=user, contract_id=contract.pk) is False
