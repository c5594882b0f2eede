"""Organizations: one per name (up to case and spacing), and keys and page slugs derived from
names, readable whatever their script and numbered when taken."""

import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction
from django.urls import reverse
from wagtail.models import Page

from b2b.exceptions import OrganizationExists
from b2b.models import ContractPage, OrganizationPage
from b2b.services.organizations.create import (
    create_organization,
    derive_org_key,
    find_organization,
    unique_child_slug,
)
from tests.support import factories as f
from tests.support.forms import BrowserForm, page_errors

fill_name_keys = importlib.import_module("b2b.migrations.0005_organization_name_key").fill_name_keys

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


# Names that differ only in case or spacing are one name.


def test_a_near_duplicate_name_reuses_the_organization_with_create(run_command):
    acme = f.OrganizationPageFactory(title="Acme University", org_key="ACMEUNIVERSITY")

    out, _ = run_command(
        "b2b_contract", "create", "  acme   UNIVERSITY ", "Dup by case", "non-sso", "--create"
    )

    assert OrganizationPage.objects.count() == 1
    contract = ContractPage.objects.get(title="Dup by case")
    assert contract.organization.pk == acme.pk
    assert out.splitlines() == [
        f"Using organization Acme University (id {acme.pk}, key ACMEUNIVERSITY): "
        "'  acme   UNIVERSITY ' differs from its name only in case or spacing",
        f"Created contract Dup by case (id {contract.pk}, slug dup-by-case) "
        f"for organization Acme University (id {acme.pk})",
    ]


def test_the_lookup_without_create_finds_a_near_duplicate_name(run_command):
    acme = f.OrganizationPageFactory(title="Acme University", org_key="ACMEUNIVERSITY")
    f.ContractPageFactory(parent=acme, title="Main")

    run_command("b2b_contract", "create", "ACME university", "Second", "non-sso")
    out, _ = run_command("b2b_list", "contracts", "--org", "acme  university", "--format", "json")

    assert sorted(row["name"] for row in json.loads(out)) == ["Main", "Second"]
    assert find_organization("Acme\tUniversity").pk == acme.pk


def test_the_service_refuses_a_second_organization_of_one_name(site_tree):
    acme = create_organization(name="Acme University")
    with pytest.raises(OrganizationExists) as refused:
        create_organization(name="ACME  university")
    assert (
        str(refused.value)
        == f"An organization named 'Acme University' already exists (id {acme.pk})"
    )
    assert refused.value.organization.pk == acme.pk
    assert OrganizationPage.objects.count() == 1


def test_the_database_holds_one_organization_per_name(site_tree):
    first = f.OrganizationPageFactory(title="Acme University")
    second = f.OrganizationPageFactory(title="Beta Corp")
    assert (first.name_key, second.name_key) == ("acme university", "beta corp")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationPage.objects.filter(pk=second.pk).update(name_key="acme university")


def test_renaming_keeps_the_name_key_in_step(site_tree):
    org = f.OrganizationPageFactory(title="Acme University")
    org.title = "Acme  Global"
    org.save_revision().publish()
    assert OrganizationPage.objects.get(pk=org.pk).name_key == "acme global"


def test_twins_from_before_the_rule_keep_working(site_tree):
    """The migration gives the older of two near-duplicates the name key; the other keeps none
    and is still found by its exact name."""
    older = f.OrganizationPageFactory(title="Acme University")
    younger = f.OrganizationPageFactory(title="Beta")
    OrganizationPage.objects.filter(pk__in=[older.pk, younger.pk]).update(name_key=None)
    Page.objects.filter(pk=younger.pk).update(title="ACME university")

    fill_name_keys(django_apps, None)

    keys = dict(OrganizationPage.objects.values_list("pk", "name_key"))
    assert (keys[older.pk], keys[younger.pk]) == ("acme university", None)
    assert find_organization("ACME university").pk == younger.pk
    assert find_organization("acme University").pk == older.pk


# Non-ASCII names get readable keys and slugs.


@pytest.mark.parametrize(
    ("name", "key", "slug"),
    [
        ("東京大学", "DONGJINGDAXUE", "dong-jing-da-xue"),
        ("Université de Zürich", "UNIVERSITEDEZURICH", "universite-de-zurich"),
        ("Москва", "MOSKVA", "moskva"),
    ],
)
def test_non_ascii_names_are_transliterated(run_command, name, key, slug):
    out, _ = run_command("b2b_contract", "create", name, "契約", "non-sso", "--create")

    org = OrganizationPage.objects.get(title=name)
    contract = ContractPage.objects.get(title="契約")
    assert (org.org_key, org.slug, contract.slug) == (key, slug, "qi-yue")
    assert out.splitlines()[0] == (
        f"Created organization {name} (id {org.pk}, key {key}, slug {slug})"
    )


def test_names_with_nothing_to_transliterate_fall_back(site_tree):
    assert derive_org_key("🙂") == "ORG"
    assert unique_child_slug(site_tree.organizations, "🙂") == "page"


# Wagtail's organization form applies the same rule.


def _add_organization_form(client, site_tree) -> BrowserForm:
    url = reverse(
        "wagtailadmin_pages:add", args=["b2b", "organizationpage", site_tree.organizations.pk]
    )
    return BrowserForm(client.get(url).content.decode(), form_id="page-edit-form")


@pytest.fixture
def staff_client(client, site_tree):
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    return client


def test_wagtail_refuses_a_new_organization_of_an_existing_name(staff_client, site_tree):
    acme = f.OrganizationPageFactory(title="Acme University", org_key="ACMEUNIVERSITY")
    form = _add_organization_form(staff_client, site_tree)
    form.fill("title", "acme  university")
    form.fill("slug", "acme-university-2")
    form.fill("org_key", "ACME2")

    response = staff_client.post(
        reverse(
            "wagtailadmin_pages:add", args=["b2b", "organizationpage", site_tree.organizations.pk]
        ),
        form.data(submit="action-publish"),
    )

    assert response.status_code == 200
    assert page_errors(response.content.decode()) == [
        f"An organization named 'Acme University' (id {acme.pk}) already exists; names that "
        "differ only in case or spacing are the same name."
    ]
    assert list(OrganizationPage.objects.values_list("pk", flat=True)) == [acme.pk]


def test_wagtail_refuses_renaming_an_organization_to_an_existing_name(staff_client):
    acme = f.OrganizationPageFactory(title="Acme University")
    beta = f.OrganizationPageFactory(title="Beta Corp")
    url = reverse("wagtailadmin_pages:edit", args=[beta.pk])
    form = BrowserForm(staff_client.get(url).content.decode(), form_id="page-edit-form")
    form.fill("title", "ACME University")

    response = staff_client.post(url, form.data(submit="action-publish"))

    assert response.status_code == 200
    assert page_errors(response.content.decode()) == [
        f"An organization named 'Acme University' (id {acme.pk}) already exists; names that "
        "differ only in case or spacing are the same name."
    ]
    beta = OrganizationPage.objects.get(pk=beta.pk)
    assert (beta.title, beta.name_key) == ("Beta Corp", "beta corp")
