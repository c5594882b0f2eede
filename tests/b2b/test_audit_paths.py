"""The audit trail of each way a change is made: who, through what, and the fields before and
after, recorded by the services (so each path is covered once) and read back by b2b_list."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from b2b.models import ContractMembership, ContractPage, OrganizationPage
from b2b.selectors.history import page_history
from tests.b2b.helpers import publish_in_wagtail
from tests.ecommerce import helpers as h
from tests.support import factories as f
from tests.support.forms import page_errors
from tests.users.helpers import post_user_page
from users.services.api_tokens import create_api_token

pytestmark = pytest.mark.django_db
COMMENTS = {
    "comments-TOTAL_FORMS": "0",
    "comments-INITIAL_FORMS": "0",
    "comments-MIN_NUM_FORMS": "0",
    "comments-MAX_NUM_FORMS": "1000",
}


def trail(page):
    """(action, actor, channel, changes, details) of the page's b2b entries, oldest first."""
    return [
        (e.action, e.actor, e.channel, e.changes, e.details)
        for e in page_history(page.pk)
        if e.action.startswith("b2b.")
    ]


def cli_actor(name):
    return lambda actor: actor.startswith(f"manage.py {name} (os user ") and actor.endswith(")")


@pytest.fixture
def org(site_tree):
    return f.OrganizationPageFactory(title="UniversityX", org_key="UNIX")


@pytest.fixture
def contract(org):
    return f.ContractPageFactory(
        parent=org,
        title="Spring",
        max_learners=10,
        contract_start=date(2026, 1, 1),
        contract_end=date(2036, 12, 31),
    )


def _course(number):
    course = f.CourseFactory(readable_id=f"course-v1:UAI_SOURCE+{number}", title=number)
    f.CourseRunFactory(course=course, run_tag="SOURCE")
    return course


def test_command_line_records_creation_changes_and_courseware(run_command, site_tree, no_openedx):
    run_command(
        "b2b_contract", "create", "Acme U", "Cohort 1", "non-sso", "--max-learners", "5",
        "--start", "2027-01-01", "--create",
    )  # fmt: skip
    contract = ContractPage.objects.get(title="Cohort 1")
    organization = OrganizationPage.objects.get(title="Acme U")
    run_command(
        "b2b_contract", "modify", str(contract.pk), "--max-learners", "7", "--no-start-date"
    )
    course = _course("DEMO1")
    run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id)
    run_command("b2b_contract", "courseware", str(contract.pk), course.readable_id, "--remove")

    [org_entry] = trail(organization)
    assert org_entry[0] == "b2b.organization.create"
    assert cli_actor("b2b_contract")(org_entry[1]) and org_entry[2] == "cli"
    assert org_entry[3] == {
        "name": {"before": None, "after": "Acme U"},
        "org_key": {"before": None, "after": "ACMEU"},
    }
    entries = trail(contract)
    assert [e[0] for e in entries] == [
        "b2b.contract.create",
        "b2b.contract.change",
        "b2b.courseware.add",
        "b2b.courseware.remove",
    ]
    assert all(cli_actor("b2b_contract")(e[1]) and e[2] == "cli" for e in entries)
    assert entries[0][3] == {
        "active": {"before": None, "after": True},
        "contract_start": {"before": None, "after": "2027-01-01"},
        "integration_type": {"before": None, "after": "non-sso"},
        "max_learners": {"before": None, "after": 5},
        "name": {"before": None, "after": "Cohort 1"},
    }
    assert entries[1][3] == {
        "contract_start": {"before": "2027-01-01", "after": None},
        "max_learners": {"before": 5, "after": 7},
    }
    run_key = f"course-v1:UAI_ACMEU+DEMO1+{timezone.now().year}_C{contract.pk}"
    assert entries[2][3:] == (
        {
            "courseware": {"before": [], "after": [course.readable_id]},
            "runs": {"before": [], "after": [run_key]},
        },
        {"courseware_id": course.readable_id},
    )
    assert entries[3][3] == {
        "courseware": {"before": [course.readable_id], "after": []},
        "runs": {"before": [run_key], "after": []},
    }


def test_a_change_that_changes_nothing_records_nothing(run_command, contract):
    run_command("b2b_contract", "modify", str(contract.pk), "--max-learners", "10")
    assert trail(contract) == []


def test_a_refused_change_records_nothing(run_command, contract):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        run_command("b2b_contract", "modify", str(contract.pk), "--end", "2020-01-01")
    assert trail(contract) == []


@pytest.fixture
def editor(client, site_tree):
    user = f.UserFactory(is_staff=True, is_superuser=True, email="editor@example.com")
    client.force_login(user)
    return client


def test_wagtail_publish_records_the_terms_before_and_after(editor, contract, org):
    response = publish_in_wagtail(editor, contract, max_learners="12", contract_end="2037-06-30")
    assert response.status_code == 302, page_errors(response.content.decode())
    response = publish_in_wagtail(editor, org, description="A university")
    assert response.status_code == 302, page_errors(response.content.decode())
    response = publish_in_wagtail(editor, contract)  # published again as it is: nothing changed
    assert response.status_code == 302

    assert trail(contract) == [
        (
            "b2b.contract.change",
            "editor@example.com",
            "wagtail",
            {
                "contract_end": {"before": "2036-12-31", "after": "2037-06-30"},
                "max_learners": {"before": 10, "after": 12},
            },
            {},
        )
    ]
    assert trail(org) == [
        (
            "b2b.organization.change",
            "editor@example.com",
            "wagtail",
            {"description": {"before": "", "after": "A university"}},
            {},
        )
    ]
    history = editor.get(reverse("wagtailadmin_pages:history", args=[contract.pk]))
    assert "Contract terms changed" in history.content.decode()


def test_wagtail_creation_is_recorded(editor, org):
    url = reverse("wagtailadmin_pages:add", args=["b2b", "contractpage", org.pk])
    data = {
        "title": "Autumn",
        "slug": "autumn",
        "integration_type": "sso",
        "active": "on",
        "progress_visibility": "per-learner",  # the form's select, posted as rendered
    }
    response = editor.post(url, {**COMMENTS, **data, "action-publish": "action-publish"})
    assert response.status_code == 302, page_errors(response.content.decode())
    contract = ContractPage.objects.get(title="Autumn")
    assert trail(contract) == [
        (
            "b2b.contract.create",
            "editor@example.com",
            "wagtail",
            {
                "active": {"before": None, "after": True},
                "integration_type": {"before": None, "after": "sso"},
                "name": {"before": None, "after": "Autumn"},
            },
            {},
        )
    ]


def test_admin_inline_records_joins_and_removals(editor, contract):
    learner = f.UserFactory(email="ann@example.com")
    response = post_user_page(editor, learner, [{"contract": contract.pk, "user": learner.pk}])
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = ContractMembership.objects.get(user=learner)
    response = post_user_page(
        editor,
        learner,
        [{"id": membership.pk, "contract": contract.pk, "user": learner.pk, "DELETE": "on"}],
        initial=1,
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    learner_details = {"learner": "ann@example.com", "learner_id": learner.pk}
    assert trail(contract) == [
        (
            "b2b.membership.add",
            "editor@example.com",
            "admin",
            {"learners": {"before": 0, "after": 1}},
            {**learner_details, "source": "staff"},
        ),
        (
            "b2b.membership.remove",
            "editor@example.com",
            "admin",
            {"learners": {"before": 1, "after": 0}},
            learner_details,
        ),
    ]


def test_api_with_a_token_records_the_staff_user(contract):
    staff = f.UserFactory(is_staff=True, email="ops@example.com")
    token = create_api_token(email=staff.email).token
    learner = f.UserFactory(email="bob@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    base = f"/api/v1/b2b/contracts/{contract.pk}/"

    assert client.patch(base, {"price": "20.00"}, format="json").status_code == 200
    assert (
        client.post(f"{base}learners/", {"email": learner.email}, format="json").status_code == 201
    )
    assert client.delete(f"{base}learners/{learner.pk}/").status_code == 204
    assert (
        client.patch(
            f"/api/v1/b2b/organizations/{contract.organization.pk}/",
            {"sso_organization_id": "kc-1"},
            format="json",
        ).status_code
        == 200
    )

    entries = trail(contract)
    assert [(e[0], e[1], e[2]) for e in entries] == [
        ("b2b.contract.change", "ops@example.com", "api"),
        ("b2b.membership.add", "ops@example.com", "api"),
        ("b2b.membership.remove", "ops@example.com", "api"),
    ]
    assert entries[0][3] == {"enrollment_fixed_price": {"before": None, "after": "20.00"}}
    [org_entry] = trail(contract.organization)
    assert org_entry[:4] == (
        "b2b.organization.change",
        "ops@example.com",
        "api",
        {"sso_organization_id": {"before": None, "after": "kc-1"}},
    )


def test_sso_sign_in_records_the_learner_joining(client, oidc_settings, site_tree):
    from tests.users.helpers import set_identity, sign_in

    organization = f.OrganizationPageFactory(org_key="SSOU", sso_organization_id="kc-ssou")
    contract = f.ContractPageFactory(parent=organization, integration_type="sso")
    provider = oidc_settings.SOCIAL_AUTH_OIDC_OIDC_ENDPOINT
    set_identity(provider, "sub-audit", email="sso@example.edu", organization=["ssou"])
    assert sign_in(client, provider, "sub-audit").status_code == 302

    [entry] = trail(contract)
    learner = ContractMembership.objects.get(contract=contract).user
    assert entry == (
        "b2b.membership.add",
        "sso@example.edu",
        "sso",
        {"learners": {"before": 0, "after": 1}},
        {"learner": "sso@example.edu", "learner_id": learner.pk, "source": "sso"},
    )


def test_checkout_records_the_learner_joining(client, site_tree, no_openedx):
    from ecommerce.constants import CART_ADD_PATH

    learner = h.learner("cat@example.com", name="Cat")
    client.force_login(learner)
    contract, (product,) = h.b2b_product(max_learners=2)
    code = h.code_for(product)
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    client.post(reverse("ecommerce:cart-apply-code"), {"code": code.discount_code})
    assert client.post(reverse("ecommerce:checkout")).status_code == 302

    assert trail(contract)[-1] == (
        "b2b.membership.add",
        "cat@example.com",
        "checkout",
        {"learners": {"before": 0, "after": 1}},
        {"learner": "cat@example.com", "learner_id": learner.pk, "source": "code"},
    )


@pytest.fixture
def history_contract(run_command, contract):
    run_command("b2b_contract", "modify", str(contract.pk), "--price", "9.50")
    learner = f.UserFactory(email="dee@example.com")
    from b2b.services.memberships import attach_learner

    attach_learner(user=learner, contract_id=contract.pk, source="staff")
    return contract, learner


def test_b2b_list_history_json(run_command, history_contract):
    contract, learner = history_contract
    out, _ = run_command("b2b_list", "history", "--contract", str(contract.pk), "--format", "json")
    rows = [row for row in json.loads(out) if row["action"].startswith("b2b.")]
    assert [{k: v for k, v in row.items() if k != "when"} for row in rows] == [
        {
            "who": rows[0]["who"],
            "channel": "cli",
            "action": "b2b.contract.change",
            "label": "Contract terms changed",
            "changes": {"enrollment_fixed_price": {"before": None, "after": "9.50"}},
            "details": {},
        },
        {
            "who": "system",
            "channel": "system",
            "action": "b2b.membership.add",
            "label": "Learner joined",
            "changes": {"learners": {"before": 0, "after": 1}},
            "details": {"learner": "dee@example.com", "learner_id": learner.pk, "source": "staff"},
        },
    ]
    assert cli_actor("b2b_contract")(rows[0]["who"])
    assert rows[0]["when"] <= rows[1]["when"]


def test_b2b_list_history_csv_and_table(run_command, history_contract):
    contract, learner = history_contract
    out, _ = run_command("b2b_list", "history", "--contract", str(contract.pk), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["when", "who", "channel", "action", "changes"]
    ours = [row for row in rows if row["action"].startswith("b2b.")]
    assert [(r["channel"], r["action"], r["changes"]) for r in ours] == [
        ("cli", "b2b.contract.change", "enrollment_fixed_price: - -> 9.50"),
        (
            "system",
            "b2b.membership.add",
            f"learners: 0 -> 1; learner: dee@example.com; learner_id: {learner.pk}; source: staff",
        ),
    ]
    table, _ = run_command("b2b_list", "history", "--contract", str(contract.pk))
    assert f"History of contract {contract.pk} (Spring)" in table
    assert "enrollment_fixed_price: - -> 9.50" in table


def test_b2b_list_history_of_an_unknown_contract_is_one_line(run_command, site_tree):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"^No contract has id 999999$"):
        run_command("b2b_list", "history", "--contract", "999999")


def test_price_change_keeps_decimal_text(run_command, contract):
    run_command("b2b_contract", "modify", str(contract.pk), "--price", "12.5")
    [entry] = trail(contract)
    assert entry[3] == {"enrollment_fixed_price": {"before": None, "after": str(Decimal("12.50"))}}
