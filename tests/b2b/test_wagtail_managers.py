"""Staff grant and remove the manager role from the organization's page in Wagtail."""

import pytest
from django.urls import reverse

from b2b.models import OrganizationManager
from tests.support import factories as f
from tests.support.forms import BrowserForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, site_tree):
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True, email="staff@example.com"))
    return client


def test_the_organization_page_lists_managers_and_links_to_their_page(staff_client):
    acme = f.OrganizationPageFactory(title="Acme University")
    lead = f.UserFactory(email="lead@example.com")
    OrganizationManager.objects.create(user=lead, organization=acme)
    page = staff_client.get(reverse("wagtailadmin_pages:edit", args=[acme.pk])).content.decode()
    assert "lead@example.com" in page
    assert reverse("b2b_organization_managers", args=[acme.pk]) in page


def test_staff_add_and_remove_a_manager_outside_revisions(staff_client):
    acme = f.OrganizationPageFactory(title="Acme University")
    revisions = acme.revisions.count()
    lead = f.UserFactory(email="Lead@Example.com")
    url = reverse("b2b_organization_managers", args=[acme.pk])
    form = BrowserForm(staff_client.get(url).content.decode(), form_id="add-manager")
    form.fill("email", "lead@example.com")
    response = staff_client.post(url, form.data())
    assert response.status_code == 302
    role = OrganizationManager.objects.get()
    assert (role.user, role.organization, role.granted_by.email) == (
        lead,
        acme,
        "staff@example.com",
    )
    page = staff_client.get(url).content.decode()
    assert "Lead@Example.com now manages Acme University" in page
    remove = BrowserForm(page, action="")
    response = staff_client.post(url, remove.data())
    assert response.status_code == 302
    assert not OrganizationManager.objects.exists()
    acme.refresh_from_db()
    assert acme.revisions.count() == revisions


def test_an_unknown_address_is_one_line_and_changes_nothing(staff_client):
    acme = f.OrganizationPageFactory()
    url = reverse("b2b_organization_managers", args=[acme.pk])
    response = staff_client.post(url, {"email": "ghost@example.com"})
    assert response.status_code == 400
    assert (
        "No user has the e-mail address &#x27;ghost@example.com&#x27;" in response.content.decode()
    )
    assert not OrganizationManager.objects.exists()


def test_a_manager_cannot_reach_the_page(client, site_tree):
    acme = f.OrganizationPageFactory()
    lead = f.UserFactory()
    OrganizationManager.objects.create(user=lead, organization=acme)
    client.force_login(lead)
    response = client.post(
        reverse("b2b_organization_managers", args=[acme.pk]), {"email": lead.email}
    )
    assert response.status_code in (302, 403)
    assert OrganizationManager.objects.count() == 1


@pytest.mark.parametrize("forged", ["abc", "1 OR 1=1", "99999999999999999999999"])
def test_a_forged_removal_is_one_line_and_changes_nothing(staff_client, forged):
    acme = f.OrganizationPageFactory()
    lead = f.UserFactory(email="lead@example.com")
    OrganizationManager.objects.create(user=lead, organization=acme)
    url = reverse("b2b_organization_managers", args=[acme.pk])
    response = staff_client.post(url, {"remove": forged})
    assert response.status_code == 400
    assert "No such manager" in response.content.decode()
    assert OrganizationManager.objects.filter(user=lead, organization=acme).exists()
