"""The contracts inline on the Django admin's user page."""

import pytest
from django.urls import reverse

from b2b.models import ContractMembership
from tests.support import factories as f
from tests.support.forms import BrowserForm, page_errors
from tests.users.helpers import post_user_page

pytestmark = pytest.mark.django_db
PREFIX = "contract_memberships"


def test_staff_adds_a_learner_to_a_contract(admin_client):
    learner = f.UserFactory()
    contract = f.ContractPageFactory(max_learners=5)
    response = post_user_page(
        admin_client, learner, [{"contract": contract.pk, "user": learner.pk}]
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = ContractMembership.objects.get(user=learner)
    assert membership.contract == contract
    assert membership.source == "staff"
    assert membership.created_by == admin_client.staff

    page = admin_client.get(reverse("admin:users_user_change", args=[learner.pk])).content.decode()
    assert "Staff" in page and "staff@example.com" in page


def test_full_contract_shows_the_error(admin_client):
    contract = f.ContractPageFactory(max_learners=1, title="Tiny")
    f.ContractMembershipFactory(contract=contract)
    learner = f.UserFactory()
    response = post_user_page(
        admin_client, learner, [{"contract": contract.pk, "user": learner.pk}]
    )
    assert response.status_code == 200
    assert "Contract &#x27;Tiny&#x27; is full (1 learners)" in response.content.decode()
    assert not ContractMembership.objects.filter(user=learner).exists()


def test_inactive_contract_refused(admin_client):
    contract = f.ContractPageFactory(active=False, title="Old")
    learner = f.UserFactory()
    response = post_user_page(
        admin_client, learner, [{"contract": contract.pk, "user": learner.pk}]
    )
    assert "Contract &#x27;Old&#x27; is not active" in response.content.decode()


def test_staff_removes_a_membership(admin_client):
    membership = f.ContractMembershipFactory()
    learner = membership.user
    response = post_user_page(
        admin_client,
        learner,
        [
            {
                "id": membership.pk,
                "user": learner.pk,
                "contract": membership.contract_id,
                "DELETE": "on",
            }
        ],
        initial=1,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not ContractMembership.objects.filter(pk=membership.pk).exists()


def test_staff_removes_a_learner_posting_what_the_page_renders(admin_client):
    """The contract of an existing row is shown as text, so the browser does not send it."""
    learner = f.UserFactory(email="leaving@example.com")
    leaving = f.ContractMembershipFactory(user=learner, contract__title="Leaving")
    staying = f.ContractMembershipFactory(user=learner, contract__title="Staying")
    url = reverse("admin:users_user_change", args=[learner.pk])
    form = BrowserForm(admin_client.get(url).content.decode(), form_id="user_form")
    rows = {
        int(dict(form.fields)[f"{PREFIX}-{index}-id"]): index
        for index in range(int(dict(form.fields)[f"{PREFIX}-TOTAL_FORMS"]))
    }
    assert sorted(rows) == sorted([leaving.pk, staying.pk])
    assert f"{PREFIX}-{rows[leaving.pk]}-contract" not in form.names()

    form.tick(f"{PREFIX}-{rows[leaving.pk]}-DELETE")
    response = admin_client.post(url, form.data(submit="_save"))

    assert response.status_code == 302, page_errors(response.content.decode())
    assert list(ContractMembership.objects.filter(user=learner)) == [staying]
    page = admin_client.get(response["Location"]).content.decode()
    assert "was changed successfully" in page
    history = admin_client.get(reverse("admin:users_user_history", args=[learner.pk]))
    assert "Deleted contract" in history.content.decode()


def test_a_contract_posted_for_a_deleted_row_is_ignored(admin_client):
    """The row's contract comes from the database: posting another one cannot aim the removal
    at a different membership."""
    learner = f.UserFactory()
    removed = f.ContractMembershipFactory(user=learner)
    other = f.ContractMembershipFactory(user=learner)
    rows = [
        {"id": removed.pk, "user": learner.pk, "contract": other.contract_id, "DELETE": "on"},
        {"id": other.pk, "user": learner.pk},
    ]
    response = post_user_page(admin_client, learner, rows, initial=2)
    assert response.status_code == 302, page_errors(response.content.decode())
    assert list(ContractMembership.objects.filter(user=learner)) == [other]


def test_saving_the_user_page_unchanged_keeps_the_contracts(admin_client):
    membership = f.ContractMembershipFactory(user=f.UserFactory(email="member@example.com"))
    url = reverse("admin:users_user_change", args=[membership.user_id])
    form = BrowserForm(admin_client.get(url).content.decode(), form_id="user_form")

    response = admin_client.post(url, form.data(submit="_save"))

    assert response.status_code == 302, page_errors(response.content.decode())
    assert list(ContractMembership.objects.all()) == [membership]


def test_organizations_and_contracts_are_read_only_in_admin(admin_client):
    contract = f.ContractPageFactory()
    assert admin_client.get(reverse("admin:b2b_contractpage_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:b2b_contractpage_add")).status_code == 403
    detail = admin_client.get(reverse("admin:b2b_contractpage_change", args=[contract.pk]))
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
