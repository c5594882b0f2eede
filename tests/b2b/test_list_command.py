"""b2b_list: organizations, contracts and courseware, for people and for scripts."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from b2b.enums import MembershipSource
from b2b.models import ContractMembership
from tests.b2b.helpers import codes, contract_with_products, reconcile, redeem
from tests.support import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(site_tree):
    mit = f.OrganizationPageFactory(title="MIT", org_key="MIT", sso_organization_id="kc-mit")
    acme = f.OrganizationPageFactory(title="Acme", org_key="ACME")
    contract, (product, _) = contract_with_products(
        parent=mit,
        title="MIT 2026",
        max_learners=3,
        enrollment_fixed_price=Decimal("10.00"),
        contract_start=date(2026, 1, 1),
        contract_end=date(2026, 12, 31),
    )
    reconcile(contract)
    redeem(codes(product).first())
    for _ in range(2):
        ContractMembership.objects.create(
            user=f.UserFactory(), contract=contract, source=MembershipSource.CODE
        )
    other = f.ContractPageFactory(parent=acme, title="Acme SSO", integration_type="sso")
    return {"mit": mit, "acme": acme, "contract": contract, "other": other}


def test_organizations(run_command, data):
    out, _ = run_command("b2b_list", "organizations", "--format", "json")
    rows = json.loads(out)
    assert [(r["name"], r["org_key"], r["contracts"]) for r in rows] == [
        ("MIT", "MIT", 1),
        ("Acme", "ACME", 1),
    ]
    assert rows[0]["sso_organization_id"] == "kc-mit"

    out, _ = run_command("b2b_list", "organizations", "--org", "ACME")
    assert "Acme" in out and "MIT" not in out


def test_contracts_json(run_command, data, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2026, 6, 15))
    out, _ = run_command("b2b_list", "contracts", "--format", "json")
    rows = {r["id"]: r for r in json.loads(out)}
    row = rows[data["contract"].pk]
    assert row == {
        "id": data["contract"].pk,
        "name": "MIT 2026",
        "slug": data["contract"].slug,
        "organization": "MIT",
        "integration_type": "non-sso",
        "start": "2026-01-01",
        "end": "2026-12-31",
        "active": True,
        "max_learners": 3,
        "price": "10.00",
        "learners": 2,
        "codes_total": 6,
        "codes_usable": 5,
        "codes_redeemed": 1,
        "codes_status": "up to date",
        "codes_error": None,
        "state": "active",
        "renews": None,
    }
    assert rows[data["other"].pk]["codes_total"] == 0


def test_contracts_table_and_csv_and_org_filter(run_command, data):
    out, _ = run_command("b2b_list", "contracts")
    assert "MIT 2026" in out and "Acme SSO" in out and "up to date" in out
    out, _ = run_command("b2b_list", "contracts", "--org", "Acme", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["name"] for r in rows] == ["Acme SSO"]
    assert rows[0]["max_learners"] == ""


def test_unknown_org(run_command, data):
    with pytest.raises(CommandError, match="No organization is named or keyed 'Nope'"):
        run_command("b2b_list", "contracts", "--org", "Nope")


def test_courseware(run_command, data):
    contract = data["contract"]
    program = f.ProgramFactory(title="Track")
    contract.programs.add(program)
    out, _ = run_command(
        "b2b_list", "courseware", "--contract", str(contract.pk), "--format", "json"
    )
    listing = json.loads(out)
    assert len(listing["runs"]) == 2
    assert {r["usable_codes"] for r in listing["runs"]} == {2, 3}
    assert all(r["price"] == "10.00" and r["edx_copy"] == "Not required" for r in listing["runs"])
    assert listing["attached"] == [
        {"type": "program", "readable_id": program.readable_id, "title": "Track", "runs": None}
    ]
    out, _ = run_command("b2b_list", "courseware", "--contract", str(contract.pk))
    assert "Open edX copy" in out and "Attached courseware" in out


def test_courseware_requires_a_known_contract(run_command, data):
    with pytest.raises(CommandError, match="No contract has id 999999"):
        run_command("b2b_list", "courseware", "--contract", "999999")
    with pytest.raises(CommandError, match="the following arguments are required: --contract"):
        run_command("b2b_list", "courseware")


def test_listing_query_counts_are_constant(run_command, data):
    def count(*args):
        with CaptureQueriesContext(connection) as queries:
            run_command(*args)
        return len(queries)

    before = {
        "contracts": count("b2b_list", "contracts", "--format", "json"),
        "orgs": count("b2b_list", "organizations", "--format", "json"),
        "runs": count("b2b_list", "courseware", "--contract", str(data["contract"].pk)),
    }
    for _ in range(3):
        more, _ = contract_with_products(parent=data["mit"], max_learners=2)
        reconcile(more)
    for _ in range(3):
        f.CourseRunFactory(b2b_contract=data["contract"], run_tag="X")
    after = {
        "contracts": count("b2b_list", "contracts", "--format", "json"),
        "orgs": count("b2b_list", "organizations", "--format", "json"),
        "runs": count("b2b_list", "courseware", "--contract", str(data["contract"].pk)),
    }
    assert before == after
