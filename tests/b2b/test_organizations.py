"""Organization keys and page slugs derived from names, numbered when taken."""

import pytest

from b2b.services.organizations import derive_org_key, unique_child_slug
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_keys_are_numbered_from_two_past_every_taken_one(site_tree):
    assert derive_org_key("Acme Corp.") == "ACMECORP"
    f.OrganizationPageFactory(org_key="ACMECORP")
    f.OrganizationPageFactory(org_key="ACMECORP2")
    assert derive_org_key("Acme Corp.") == "ACMECORP3"
    assert derive_org_key("!!!") == "ORG"


def test_slugs_are_numbered_with_a_dash_among_their_siblings_only(site_tree):
    org = f.OrganizationPageFactory()
    other = f.OrganizationPageFactory()
    for slug in ("main", "main-2"):
        f.ContractPageFactory(parent=org, slug=slug)
    f.ContractPageFactory(parent=other, slug="main-3")
    assert unique_child_slug(org, "Main") == "main-3"
    assert unique_child_slug(other, "Main") == "main"
    assert unique_child_slug(org, "???") == "page"
