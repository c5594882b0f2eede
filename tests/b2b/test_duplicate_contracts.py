"""One name per contract within an organization, on every path that names a contract."""

import html
import threading

import pytest
from bs4 import BeautifulSoup
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from b2b.exceptions import DuplicateContract
from b2b.models import ContractPage
from b2b.services.contracts.terms import create_contract
from tests.support import factories as f
from tests.support.forms import BrowserForm


@pytest.mark.django_db
def test_the_service_refuses_a_second_contract_of_the_same_name(site_tree):
    acme = f.OrganizationPageFactory(title="Acme")
    first = create_contract(organization=acme, name="Acme Main", integration_type="sso").contract

    for same in ("Acme Main", "acme main", "  ACME   Main "):
        with pytest.raises(DuplicateContract) as refused:
            create_contract(organization=acme, name=same, integration_type="non-sso")
        assert str(refused.value) == (
            f"Organization 'Acme' already has a contract named 'Acme Main' (id {first.pk})"
        )
    assert ContractPage.objects.of_organization(acme).count() == 1
    # Another organization may use the name; a different name is fine too.
    beta = f.OrganizationPageFactory(title="Beta")
    create_contract(organization=beta, name="Acme Main", integration_type="sso")
    create_contract(organization=acme, name="Acme Main 2", integration_type="sso")
    assert ContractPage.objects.count() == 3


@pytest.mark.django_db
def test_the_command_refuses_it_on_one_line(run_command):
    f.OrganizationPageFactory(title="Acme University", org_key="ACME")
    run_command("b2b_contract", "create", "Acme University", "Acme Main", "non-sso")
    existing = ContractPage.objects.get(title="Acme Main")

    with pytest.raises(CommandError) as refused:
        run_command("b2b_contract", "create", "ACME", "acme  main", "sso")

    assert str(refused.value) == (
        f"Organization 'Acme University' already has a contract named 'Acme Main' "
        f"(id {existing.pk})"
    )
    assert ContractPage.objects.count() == 1


@pytest.fixture
def staff_client(client, site_tree):
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    return client


def _field_errors(response) -> list[str]:
    """The field errors a Wagtail page form shows."""
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    return [" ".join(p.get_text(" ").split()) for p in soup.select("p.error-message")]


def _publish(client, url, **values):
    """Open the Wagtail page form at ``url``, type ``values`` into its fields and publish."""
    form = BrowserForm(client.get(url).content.decode(), form_id="page-edit-form")
    for name, value in values.items():
        form.fill(name, value)
    return client.post(url, form.data(submit="action-publish"))


@pytest.mark.django_db
def test_staff_cannot_create_or_rename_a_contract_to_a_taken_name(staff_client):
    org = f.OrganizationPageFactory(title="Acme")
    taken = f.ContractPageFactory(parent=org, title="Acme Main", slug="acme-main")
    other = f.ContractPageFactory(parent=org, title="Acme Pilot", slug="acme-pilot")
    add_url = reverse("wagtailadmin_pages:add", args=["b2b", "contractpage", org.pk])
    message = f"This organization already has a contract named 'Acme Main' (id {taken.pk})."

    response = _publish(
        staff_client, add_url, title="ACME main", slug="acme-main-2", integration_type="sso"
    )
    assert response.status_code == 200
    assert _field_errors(response) == [message]
    assert ContractPage.objects.count() == 2

    edit_url = reverse("wagtailadmin_pages:edit", args=[other.pk])
    response = _publish(staff_client, edit_url, title="Acme  Main")
    assert response.status_code == 200
    assert _field_errors(response) == [message]
    assert ContractPage.objects.get(pk=other.pk).title == "Acme Pilot"

    # Publishing a contract under its own name is no conflict.
    response = _publish(staff_client, reverse("wagtailadmin_pages:edit", args=[taken.pk]))
    assert response.status_code == 302, _field_errors(response)


@pytest.mark.django_db
def test_staff_cannot_copy_or_move_a_contract_next_to_one_of_the_same_name(staff_client):
    acme = f.OrganizationPageFactory(title="Acme")
    beta = f.OrganizationPageFactory(title="Beta")
    main = f.ContractPageFactory(parent=acme, title="Main", slug="main")
    beta_main = f.ContractPageFactory(parent=beta, title="main", slug="beta-main")

    # Copying into its own organization under its own name, as the copy form first offers.
    url = reverse("wagtailadmin_pages:copy", args=[main.pk])
    form = BrowserForm(staff_client.get(url).content.decode(), action=url)
    form.fill("new_slug", "main-copy")
    response = staff_client.post(url, form.data())
    assert response.status_code == 200
    assert _field_errors(response) == [
        f"This organization already has a contract named 'Main' (id {main.pk})."
    ]
    form.fill("new_title", "Main (copy)")
    assert staff_client.post(url, form.data()).status_code == 302
    assert ContractPage.objects.of_organization(acme).count() == 2

    # Moving it to an organization that has a contract of the same name.
    url = reverse("wagtailadmin_pages:move_confirm", args=[main.pk, beta.pk])
    response = staff_client.post(url, follow=True)
    assert (
        f"'Main' cannot move there: 'Beta' already has a contract named 'main' "
        f"(id {beta_main.pk}). Rename one of them first."
    ) in html.unescape(response.content.decode())
    assert ContractPage.objects.get(pk=main.pk).get_parent().pk == acme.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_six_concurrent_creations_of_one_name_make_one_contract(site_tree):
    acme = f.OrganizationPageFactory(title="Acme")
    barrier = threading.Barrier(6)
    outcomes = []

    def create():
        try:
            barrier.wait(timeout=20)
            create_contract(organization=acme, name="Parallel", integration_type="sso")
            outcomes.append("created")
        except DuplicateContract:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created"] + ["refused"] * 5
    assert ContractPage.objects.filter(title="Parallel").count() == 1
