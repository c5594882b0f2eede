"""The manager roles inline on the Django admin's user page: staff grant and remove the role."""

import pytest
from django.urls import reverse

from b2b.models import OrganizationManager
from b2b.selectors.history import page_history
from tests.support import factories as f
from tests.support.forms import BrowserForm, page_errors

pytestmark = pytest.mark.django_db
PREFIX = "managed_organizations"


def _page_form(client, user):
    url = reverse("admin:users_user_change", args=[user.pk])
    return url, BrowserForm(client.get(url).content.decode(), form_id="user_form")


def test_staff_grants_the_role_as_the_add_row_button_does(admin_client):
    lead = f.UserFactory(email="lead@example.com")
    acme = f.OrganizationPageFactory(title="Acme University")
    url, form = _page_form(admin_client, lead)
    assert f"{PREFIX}-__prefix__-organization" in form.names()  # the row "Add another" copies
    data = form.data(submit="_save")
    data[f"{PREFIX}-TOTAL_FORMS"] = ["1"]
    data[f"{PREFIX}-0-organization"] = [str(acme.pk)]
    data[f"{PREFIX}-0-user"] = [str(lead.pk)]
    response = admin_client.post(url, data)
    assert response.status_code == 302, page_errors(response.content.decode())
    role = OrganizationManager.objects.get(user=lead)
    assert (role.organization, role.granted_by) == (acme, admin_client.staff)
    assert [e.action for e in page_history(acme.pk)].count("b2b.manager.grant") == 1
    assert not lead.is_staff


def test_staff_removes_the_role_posting_what_the_page_renders(admin_client):
    lead = f.UserFactory(email="lead@example.com")
    acme = f.OrganizationPageFactory(title="Acme University")
    OrganizationManager.objects.create(user=lead, organization=acme)
    url, form = _page_form(admin_client, lead)
    assert f"{PREFIX}-0-organization" not in form.names()  # shown as text
    form.tick(f"{PREFIX}-0-DELETE")
    response = admin_client.post(url, form.data(submit="_save"))
    assert response.status_code == 302, page_errors(response.content.decode())
    assert not OrganizationManager.objects.exists()
    assert [e.action for e in page_history(acme.pk)].count("b2b.manager.revoke") == 1


def test_saving_unchanged_keeps_the_role(admin_client):
    lead = f.UserFactory(email="lead@example.com")
    OrganizationManager.objects.create(user=lead, organization=f.OrganizationPageFactory())
    url, form = _page_form(admin_client, lead)
    response = admin_client.post(url, form.data(submit="_save"))
    assert response.status_code == 302, page_errors(response.content.decode())
    assert OrganizationManager.objects.filter(user=lead).count() == 1
