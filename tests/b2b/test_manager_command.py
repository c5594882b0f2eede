"""manage.py b2b_manager add|remove|list, and the one owner of "may this user manage it"."""

import json

import pytest
from django.core.management.base import CommandError

from b2b.models import OrganizationManager
from b2b.selectors.history import page_history
from b2b.services.invitations.managers import (
    can_manage,
    can_manage_contract,
    grant_manager,
    managed_organizations,
)
from tests.support import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(site_tree):
    return f.OrganizationPageFactory(title="Acme University", org_key="ACME")


def test_add_list_remove(run_command, acme):
    user = f.UserFactory(email="Lead@Example.com")
    out, _ = run_command("b2b_manager", "add", "--org", "ACME", "lead@example.com")
    assert out == "Lead@Example.com now manages Acme University\n"
    out, _ = run_command("b2b_manager", "add", "--org", "Acme University", "lead@example.com")
    assert out == "Lead@Example.com already manages Acme University; nothing changed\n"
    assert can_manage(user, acme)
    out, _ = run_command("b2b_manager", "list", "--org", "acme university", "--format", "json")
    (row,) = json.loads(out)
    assert (row["email"], row["organization"], row["organization_id"]) == (
        "Lead@Example.com",
        "Acme University",
        acme.pk,
    )
    assert row["granted_by"] is None
    out, _ = run_command("b2b_manager", "list", "--format", "csv")
    assert out.splitlines()[0] == "email,name,organization_id,organization,granted_by,granted_on"
    name = user.get_full_name()
    assert out.splitlines()[1].startswith(f"Lead@Example.com,{name},{acme.pk},Acme University,,")
    out, _ = run_command("b2b_manager", "list", "--org", "ACME")
    assert "Lead@Example.com" in out and "Managers of Acme University" in out
    out, _ = run_command("b2b_manager", "remove", "--org", "ACME", "LEAD@example.com")
    assert out == "Lead@Example.com no longer manages Acme University\n"
    assert not OrganizationManager.objects.exists()
    actions = [entry.action for entry in page_history(acme.pk)]
    assert actions.count("b2b.manager.grant") == 1 and actions.count("b2b.manager.revoke") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "--org", "Nope", "a@example.com"), "No organization is named or keyed 'Nope'"),
        (("add", "--org", "ACME", "ghost@example.com"), "No user has the e-mail address"),
        (("remove", "--org", "ACME", "lead@example.com"), "lead@example.com does not manage"),
    ],
)
def test_errors_are_one_line_and_change_nothing(run_command, acme, args, message):
    f.UserFactory(email="lead@example.com")
    with pytest.raises(CommandError) as error:
        run_command("b2b_manager", *args)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert not OrganizationManager.objects.exists()


def test_a_manager_manages_only_their_organizations(acme):
    other = f.OrganizationPageFactory(title="Beta Corp")
    mine = f.ContractPageFactory(parent=acme)
    theirs = f.ContractPageFactory(parent=other)
    user = f.UserFactory()
    grant_manager(user=user, organization=acme)
    assert list(managed_organizations(user)) == [acme]
    assert can_manage(user, acme) and not can_manage(user, other)
    assert can_manage_contract(user, mine) and not can_manage_contract(user, theirs)
    assert not user.is_staff
    assert not can_manage(f.UserFactory(), acme)
