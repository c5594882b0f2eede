import io

import pytest
from django.core.management import call_command
from wagtail.models import Page, Site

from b2b.models import ContractPage, OrganizationIndexPage, OrganizationPage
from cms.models import HomePage
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def test_configure_wagtail_is_idempotent(capsys):
    call_command("configure_wagtail")
    first = capsys.readouterr().out
    call_command("configure_wagtail")
    second = capsys.readouterr().out

    assert "Created home page" in first
    assert "Created organizations index" in first
    assert "Found home page" in second
    assert "Found organizations index" in second
    assert HomePage.objects.count() == 1
    assert OrganizationIndexPage.objects.count() == 1
    site = Site.objects.get(is_default_site=True)
    home = HomePage.objects.get()
    assert site.root_page_id == home.id
    index = OrganizationIndexPage.objects.get()
    assert index.get_parent().id == home.id
    assert index.live
    # Wagtail's placeholder welcome page is gone; the tree is root -> home -> organizations.
    assert Page.objects.filter(depth=2).count() == 1


def test_page_tree_rules():
    assert OrganizationIndexPage.parent_page_types == ["cms.HomePage"]
    assert OrganizationIndexPage.max_count == 1
    assert OrganizationIndexPage.allowed_subpage_models() == [OrganizationPage]
    assert OrganizationPage.allowed_parent_page_models() == [OrganizationIndexPage]
    assert OrganizationPage.allowed_subpage_models() == [ContractPage]
    assert ContractPage.allowed_parent_page_models() == [OrganizationPage]
    assert ContractPage.allowed_subpage_models() == []


def test_only_one_organizations_index_can_be_created(site_tree):
    assert not OrganizationIndexPage.can_create_at(site_tree.home)
    assert OrganizationPage.can_create_at(site_tree.organizations)
    assert not OrganizationPage.can_create_at(site_tree.home)


@pytest.mark.parametrize("factory", [None, f.OrganizationPageFactory, f.ContractPageFactory])
def test_b2b_pages_answer_404(client, site_tree, factory):
    page = site_tree.organizations if factory is None else factory()
    response = client.get(page.url)
    assert response.status_code == 404


def test_home_page_is_served(client, site_tree):
    response = client.get("/")
    assert response.status_code == 200
    assert b"<h1>Home</h1>" in response.content


def test_contract_organization_is_its_parent(site_tree):
    org = f.OrganizationPageFactory()
    contract = f.ContractPageFactory(parent=org)
    assert contract.get_parent().specific == org


def test_configure_wagtail_rebuilds_a_flushed_tree():
    from wagtail.models import Locale

    Site.objects.all().delete()
    Page.objects.all().delete()
    Locale.objects.all().delete()
    call_command("configure_wagtail", stdout=io.StringIO())
    home = HomePage.objects.get()
    assert home.get_parent().depth == 1
    assert Site.objects.get(is_default_site=True).root_page_id == home.id
    assert OrganizationIndexPage.objects.get().get_parent().id == home.id
