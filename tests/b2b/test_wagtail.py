"""Staff editing organizations and contracts in Wagtail."""

import csv
import io

import pytest
from django.urls import reverse

from b2b.models import ContractCodeStatus, ContractMembership, ContractPage, OrganizationPage
from ecommerce.models import Discount
from tests.b2b.helpers import codes, contract_with_products, reconcile, redeem
from tests.support import factories as f

pytestmark = pytest.mark.django_db

COMMENTS = {
    "comments-TOTAL_FORMS": "0",
    "comments-INITIAL_FORMS": "0",
    "comments-MIN_NUM_FORMS": "0",
    "comments-MAX_NUM_FORMS": "1000",
}


@pytest.fixture
def staff_client(client, site_tree):
    admin = f.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def _add(client, model, parent, data):
    url = reverse("wagtailadmin_pages:add", args=["b2b", model, parent.pk])
    return client.post(url, {**COMMENTS, **data, "action-publish": "action-publish"})


def test_staff_create_organization_and_capped_contract(
    staff_client, site_tree, django_capture_on_commit_callbacks
):
    response = _add(
        staff_client,
        "organizationpage",
        site_tree.organizations,
        {"title": "Acme", "slug": "acme", "org_key": "ACME"},
    )
    assert response.status_code == 302, response.content
    org = OrganizationPage.objects.get(org_key="ACME")
    assert org.live

    with django_capture_on_commit_callbacks(execute=True):
        response = _add(
            staff_client,
            "contractpage",
            org,
            {
                "title": "Acme 2026",
                "slug": "acme-2026",
                "integration_type": "non-sso",
                "max_learners": "3",
                "active": "on",
                "progress_visibility": "per-learner",
            },
        )
    assert response.status_code == 302, response.content
    contract = ContractPage.objects.get(title="Acme 2026")
    assert ContractCodeStatus.objects.get(pk=contract.pk).requested_version == 1


def test_validation_matches_the_command_line(staff_client, site_tree):
    response = _add(
        staff_client,
        "organizationpage",
        site_tree.organizations,
        {"title": "Bad", "slug": "bad", "org_key": "bad key"},
    )
    assert response.status_code == 200
    assert b"upper-case letters, digits" in response.content
    org = f.OrganizationPageFactory()
    response = _add(
        staff_client,
        "contractpage",
        org,
        {
            "title": "C",
            "slug": "c",
            "integration_type": "sso",
            "contract_start": "2026-05-01",
            "contract_end": "2026-04-01",
            "max_learners": "0",
        },
    )
    assert response.status_code == 200
    assert b"The end date must not be before the start date." in response.content
    assert not ContractPage.objects.exists()


def test_edit_view_shows_the_summary(staff_client):
    contract, (product, _) = contract_with_products(max_learners=3)
    reconcile(contract)
    redeem(codes(product).first())
    Discount.objects.filter(pk=codes(product).last().pk).update(is_active=False)
    ContractMembership.objects.create(user=f.UserFactory(), contract=contract, source="code")
    response = staff_client.get(reverse("wagtailadmin_pages:edit", args=[contract.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 attached of a cap of 3" in html
    assert 'data-codes="usable">4<' in html
    assert 'data-codes="redeemed">1<' in html
    assert 'data-codes="deactivated">1<' in html
    assert reverse("b2b_contract_codes_csv", args=[contract.pk]) in html
    assert "Not required" in html  # the runs' Open edX state


def test_codes_csv_download_is_for_staff_only(client, staff_client):
    contract, _ = contract_with_products(products=1, max_learners=2)
    reconcile(contract)
    url = reverse("b2b_contract_codes_csv", args=[contract.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="codes-{contract.pk}.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Code", "Product", "Redeemed", "Product URL"]
    assert len(rows) == 3

    staff_client.logout()
    learner = f.UserFactory()
    client.force_login(learner)
    assert client.get(url).status_code in (302, 403)
    client.logout()
    assert client.get(url).status_code == 302


def test_delete_refused_when_in_use(staff_client):
    contract, (product, _) = contract_with_products(max_learners=2)
    reconcile(contract)
    redeem(codes(product).first())
    url = reverse("wagtailadmin_pages:delete", args=[contract.pk])
    response = staff_client.post(url, follow=True)
    assert ContractPage.objects.filter(pk=contract.pk).exists()
    assert "cannot be deleted" in response.content.decode()
    org = contract.get_parent()
    staff_client.post(reverse("wagtailadmin_pages:delete", args=[org.pk]))
    assert OrganizationPage.objects.filter(pk=org.pk).exists()


def test_deleting_an_ancestor_of_a_contract_in_use_is_refused(staff_client, site_tree):
    contract, _ = contract_with_products(max_learners=2)
    ContractMembership.objects.create(user=f.UserFactory(), contract=contract, source="staff")
    index = site_tree.organizations
    response = staff_client.post(reverse("wagtailadmin_pages:delete", args=[index.pk]), follow=True)
    assert "cannot be deleted: 1 learner(s) are attached" in response.content.decode()
    assert ContractPage.objects.filter(pk=contract.pk).exists()


def test_bulk_delete_is_guarded_too(staff_client):
    contract, (product, _) = contract_with_products(max_learners=2)
    reconcile(contract)
    redeem(codes(product).first())
    url = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "delete"])
    response = staff_client.post(f"{url}?id={contract.pk}", follow=True)
    assert "cannot be deleted: 2 course run(s) belong to it" in response.content.decode()
    assert ContractPage.objects.filter(pk=contract.pk).exists()

    unused = f.ContractPageFactory(max_learners=2)
    code = f.DiscountFactory(b2b_contract=unused)
    staff_client.post(f"{url}?id={unused.pk}")
    assert not ContractPage.objects.filter(pk=unused.pk).exists()
    assert not Discount.objects.filter(pk=code.pk).exists()


def test_delete_allowed_with_only_unused_codes(staff_client):
    contract = f.ContractPageFactory(max_learners=2)
    run = f.CourseRunFactory()
    product = f.ProductFactory(purchasable_object=run)
    code = f.DiscountFactory(b2b_contract=contract)
    f.DiscountProductFactory(discount=code, product=product)
    response = staff_client.post(reverse("wagtailadmin_pages:delete", args=[contract.pk]))
    assert response.status_code == 302
    assert not ContractPage.objects.filter(pk=contract.pk).exists()
    assert not Discount.objects.filter(pk=code.pk).exists()


def test_delete_refused_while_a_payment_holds_a_code(staff_client):
    """Deleting the contract would delete the code of a pending order (its discount would become
    null and the payment that comes back could not be fulfilled): refused, on both paths."""
    contract = f.ContractPageFactory(max_learners=2)
    code = f.DiscountFactory(b2b_contract=contract)
    order = f.OrderFactory(discount=code)
    response = staff_client.post(
        reverse("wagtailadmin_pages:delete", args=[contract.pk]), follow=True
    )
    assert "cannot be deleted: 1 enrollment code(s) are held by a payment in progress" in (
        response.content.decode()
    )
    bulk = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "delete"])
    staff_client.post(f"{bulk}?id={contract.pk}")
    assert ContractPage.objects.filter(pk=contract.pk).exists()
    order.refresh_from_db()
    assert order.discount_id == code.pk
