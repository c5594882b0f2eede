"""The site header's links by who is signed in: "Manage" for a user who manages an organization
(b2b.services.invitations.managers), "Admin" and "CMS" for staff; one query for it per request,
none for
an anonymous visitor."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from b2b.services.invitations.managers import grant_manager
from tests.ecommerce import helpers as h
from tests.support import factories as f

pytestmark = pytest.mark.django_db

SIGNED_IN = ["Dashboard", "Cart", "Orders"]


def header_links(client, url="/orders/"):
    """(the header's links as (text, href), the queries that asked about the manager role)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    nav = re.search(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    role_queries = [q for q in queries.captured_queries if "b2b_organizationmanager" in q["sql"]]
    return [(text, href) for href, text in links], len(role_queries)


def test_a_learner_sees_no_manage_link(client):
    client.force_login(h.learner("learner@example.com"))
    links, role_queries = header_links(client)
    assert links == [(text, f"/{text.lower()}/") for text in SIGNED_IN]
    assert role_queries == 1


def test_a_manager_sees_manage(client, site_tree):
    manager = h.learner("lead@acme.example")
    acme = f.OrganizationPageFactory(title="Acme")
    grant_manager(user=manager, organization=acme)
    client.force_login(manager)
    links, role_queries = header_links(client)
    assert links == [
        *[(text, f"/{text.lower()}/") for text in SIGNED_IN],
        ("Manage", "/manage/"),
    ]
    assert role_queries == 1
    # On the manager pages the link says they are the current section.
    page = client.get(f"/manage/organizations/{acme.pk}/").content.decode()
    assert '<a href="/manage/" aria-current="page">Manage</a>' in page


def test_staff_see_admin_and_cms(client):
    client.force_login(h.learner("staff@example.com", is_staff=True))
    links, role_queries = header_links(client)
    assert links == [
        *[(text, f"/{text.lower()}/") for text in SIGNED_IN],
        ("Admin", "/admin/"),
        ("CMS", "/cms/"),
    ]
    assert role_queries == 1


def test_an_anonymous_visitor_sees_sign_in_and_costs_no_query(client):
    links, role_queries = header_links(client, "/login/")
    assert links == [("Sign in", "/login/"), ("Create an account", "/register/")]
    assert role_queries == 0
