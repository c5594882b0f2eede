"""b2b_contract create / modify, as an operator runs them."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from b2b.models import ContractCodeStatus, ContractPage, OrganizationPage
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _requests(contract_id):
    status = ContractCodeStatus.objects.filter(pk=contract_id).first()
    return status.requested_version if status else 0


def test_create_with_new_organization(run_command):
    out, _ = run_command(
        "b2b_contract",
        "create",
        "UniversityX",
        "UniversityX Contract",
        "sso",
        "--create",
        "--description",
        "Test uncapped SSO contract",
    )
    org = OrganizationPage.objects.get(title="UniversityX")
    contract = ContractPage.objects.get(title="UniversityX Contract")
    assert org.org_key == "UNIVERSITYX"
    assert org.slug == "universityx"
    assert contract.slug == "universityx-contract"
    assert contract.get_parent().pk == org.pk
    assert contract.integration_type == "sso"
    assert contract.description == "Test uncapped SSO contract"
    assert contract.active is True
    assert contract.max_learners is None
    assert contract.enrollment_fixed_price is None
    assert out.splitlines() == [
        f"Created organization UniversityX (id {org.pk}, key UNIVERSITYX, slug universityx)",
        f"Created contract UniversityX Contract (id {contract.pk}, slug universityx-contract) "
        f"for organization UniversityX (id {org.pk})",
    ]


def test_create_with_all_terms(run_command):
    run_command(
        "b2b_contract",
        "create",
        "Acme Corp",
        "Acme 2026",
        "non-sso",
        "--create",
        "--org-key",
        "acme",
        "--start",
        "2026-01-01",
        "--end",
        "2026-12-31",
        "--max-learners",
        "200",
        "--price",
        "49.50",
    )
    contract = ContractPage.objects.get(title="Acme 2026")
    assert contract.get_parent().specific.org_key == "ACME"
    assert contract.contract_start == date(2026, 1, 1)
    assert contract.contract_end == date(2026, 12, 31)
    assert contract.max_learners == 200
    assert contract.enrollment_fixed_price == Decimal("49.50")
    assert _requests(contract.pk) == 1


def test_create_finds_organization_by_name_then_key(run_command):
    org = f.OrganizationPageFactory(title="Massachusetts Institute", org_key="MIT")
    run_command("b2b_contract", "create", "Massachusetts Institute", "By name", "sso")
    run_command("b2b_contract", "create", "MIT", "By key", "sso")
    assert {c.title for c in ContractPage.objects.child_of(org)} == {"By name", "By key"}
    assert OrganizationPage.objects.count() == 1


def test_missing_organization_without_create_is_an_error(run_command):
    with pytest.raises(
        CommandError, match="No organization is named or keyed 'Nowhere'; add --create"
    ):
        run_command("b2b_contract", "create", "Nowhere", "C", "sso")
    assert not ContractPage.objects.exists()
    assert not OrganizationPage.objects.exists()


def test_org_key_of_an_existing_organization_must_match(run_command):
    org = f.OrganizationPageFactory(title="Acme", org_key="ACME")
    with pytest.raises(CommandError) as raised:
        run_command("b2b_contract", "create", "Acme", "C", "sso", "--org-key", "other")
    assert str(raised.value) == "Organization 'Acme' already exists with key ACME, not OTHER"
    assert not ContractPage.objects.exists()
    assert list(OrganizationPage.objects.all()) == [org]


def test_derived_keys_and_slugs_are_unique(run_command):
    run_command("b2b_contract", "create", "University X", "Main", "sso", "--create")
    run_command("b2b_contract", "create", "UniversityX!", "Main", "sso", "--create")
    # Another name whose slug is taken ("Main" itself would be refused as a duplicate).
    run_command("b2b_contract", "create", "University X", "Main!", "sso")
    keys = sorted(OrganizationPage.objects.values_list("org_key", flat=True))
    assert keys == ["UNIVERSITYX", "UNIVERSITYX2"]
    first = OrganizationPage.objects.get(org_key="UNIVERSITYX")
    assert sorted(c.slug for c in ContractPage.objects.child_of(first)) == ["main", "main-2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-13-01"], "argument --start: not a date"),
        (["--price", "-1"], "argument --price: must be zero or more"),
        (["--price", "1.234"], "at most two decimal places"),
        (["--max-learners", "0"], "must be at least 1"),
        (["--start", "2026-02-01", "--end", "2026-01-01"], "end date must not be before"),
        (["--org-key", "bad key"], "Invalid org key 'BAD KEY'"),
    ],
)
def test_bad_input_changes_nothing(run_command, args, message):
    with pytest.raises(CommandError, match=message):
        run_command("b2b_contract", "create", "Org", "C", "non-sso", "--create", *args)
    assert not OrganizationPage.objects.exists()
    assert not ContractPage.objects.exists()


def test_bad_integration_type(run_command):
    with pytest.raises(CommandError, match="invalid choice: 'saml'"):
        run_command("b2b_contract", "create", "Org", "C", "saml", "--create")


@pytest.fixture
def contract(site_tree):
    return f.ContractPageFactory(
        max_learners=10,
        enrollment_fixed_price=Decimal("20.00"),
        contract_start=date(2026, 1, 1),
        contract_end=date(2026, 6, 30),
    )


def test_modify_changes_terms_and_publishes_a_revision(run_command, contract):
    out, _ = run_command(
        "b2b_contract",
        "modify",
        str(contract.pk),
        "--max-learners",
        "25",
        "--price",
        "30",
        "--end",
        "2026-12-31",
    )
    contract.refresh_from_db()
    assert contract.max_learners == 25
    assert contract.enrollment_fixed_price == Decimal("30.00")
    assert contract.contract_end == date(2026, 12, 31)
    latest = contract.get_latest_revision_as_object()
    assert latest.max_learners == 25  # Wagtail's editor starts from what the CLI wrote
    assert "Changed max_learners: 10 -> 25" in out
    assert "Changed enrollment_fixed_price: 20.00 -> 30.00" in out
    assert _requests(contract.pk) == 1


def test_modify_removals(run_command, contract):
    run_command(
        "b2b_contract",
        "modify",
        str(contract.pk),
        "--no-price",
        "--no-learner-cap",
        "--no-start-date",
        "--no-end-date",
    )
    contract.refresh_from_db()
    assert contract.enrollment_fixed_price is None
    assert contract.max_learners is None
    assert contract.contract_start is None
    assert contract.contract_end is None


def test_removing_dates_leaves_runs_untouched(run_command, contract):
    run = f.CourseRunFactory(b2b_contract=contract, run_tag="2026_C1")
    before = (run.start_date, run.end_date)
    run_command("b2b_contract", "modify", str(contract.pk), "--no-start-date", "--no-end-date")
    run.refresh_from_db()
    assert (run.start_date, run.end_date) == before


def test_deactivation_alone_queues_no_reconciliation(run_command, contract):
    run_command("b2b_contract", "modify", str(contract.pk), "--inactive")
    contract.refresh_from_db()
    assert contract.active is False
    assert _requests(contract.pk) == 0
    run_command("b2b_contract", "modify", str(contract.pk), "--delete")  # alias, no change
    run_command("b2b_contract", "modify", str(contract.pk), "--active")
    contract.refresh_from_db()
    assert contract.active is True
    assert _requests(contract.pk) == 1


@pytest.mark.parametrize(
    "flags",
    [
        ["--price", "5", "--no-price"],
        ["--active", "--inactive"],
        ["--active", "--delete"],
        ["--max-learners", "5", "--no-learner-cap"],
        ["--start", "2026-01-01", "--no-start-date"],
        ["--end", "2026-01-01", "--no-end-date"],
    ],
)
def test_contradictory_flags(run_command, contract, flags):
    with pytest.raises(CommandError, match="not allowed with argument"):
        run_command("b2b_contract", "modify", str(contract.pk), *flags)
    contract.refresh_from_db()
    assert contract.max_learners == 10


def test_modify_errors(run_command, contract):
    with pytest.raises(CommandError, match="No contract has id 999999"):
        run_command("b2b_contract", "modify", "999999", "--price", "1")
    with pytest.raises(CommandError, match="Nothing to change"):
        run_command("b2b_contract", "modify", str(contract.pk))
    with pytest.raises(CommandError, match="end date must not be before the start date"):
        run_command("b2b_contract", "modify", str(contract.pk), "--end", "2025-01-01")
    contract.refresh_from_db()
    assert contract.contract_end == date(2026, 6, 30)
    assert _requests(contract.pk) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["b2b_contract", "modify", "1", "--price", "-1"],
            "manage.py b2b_contract modify: error: argument --price: must be zero or more: '-1'",
        ),
        (
            ["b2b_contract", "modify", "1", "--active", "--inactive"],
            "argument --inactive/--delete: not allowed with argument --active",
        ),
        (["b2b_list", "contracts", "--codes", "x"], "argument --codes: not an id: 'x'"),
        (["b2b_contract", "frobnicate"], "argument ACTION: invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_from_a_terminal_get_one_line(tmp_path, argv, message):
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=Path(__file__).resolve().parents[2],
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path}/x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert lines[0].endswith("(see --help)")
