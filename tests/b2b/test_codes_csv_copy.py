"""On PostgreSQL the codes CSV is laid out by the database (COPY ... TO STDOUT WITH CSV), and it
is the same file, byte for byte, as the one Python's csv writer makes (the SQLite path): same
header, cells, quoting, formula neutralisation, order and CRLF line ends, on hostile values.
The codes file, the Wagtail download and the API's CSV all come from the COPY."""

import csv
import io

import pytest
from django.db import connection
from django.urls import reverse

from b2b.services.codes import export as code_export
from courses.models import CourseRun
from ecommerce.models import Discount, DiscountProduct
from tests.b2b.helpers import codes, contract_with_products, reconcile, redeem
from tests.support import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Run titles that a spreadsheet would run, or that need quoting, or that are not ASCII.
HOSTILE_TITLES = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+2",
    "-3, minus",
    "@SUM(A1:A2)",
    "\tleading tab",
    "\rcarriage return",
    'say "hi", then\nleave',
    "two\r\nlines",
    "Ünïcødé 日本語 🎓",
    "  spaces  ",
    "plain",
]
HOSTILE_EMAILS = ["=cmd@example.com", "+x@example.com", "-y@example.com", '"q,c"@exämple.com']


@pytest.fixture
def hostile_contract(settings):
    # A base address with a quote and a percent sign: both must reach the file as they are.
    settings.SITE_BASE_URL = "https://learn.example.edu/it's%20here"
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    contract, products = contract_with_products(products=len(HOSTILE_TITLES), max_learners=3)
    for product, title in zip(products, HOSTILE_TITLES, strict=True):
        CourseRun.objects.filter(pk=product.object_id).update(title=title)
    reconcile(contract)
    for product, email in zip(products, HOSTILE_EMAILS, strict=False):
        redeem(codes(product).order_by("pk").first(), f.UserFactory(email=email))
    # A code that starts like a formula, and one deactivated but redeemed (still listed).
    first = codes(products[0]).order_by("pk").last()
    Discount.objects.filter(pk=first.pk).update(discount_code="-=1+1")
    redeemed = codes(products[1]).order_by("pk").first()
    Discount.objects.filter(pk=redeemed.pk).update(is_active=False)
    # A product whose run is gone: an empty Product cell.
    CourseRun.objects.filter(pk=products[-1].object_id).delete()
    return contract, products


def _python_bytes(contract) -> bytes:
    return "".join(code_export.csv_lines_in_python(contract)).encode()


def _copied_bytes(contract) -> bytes:
    return b"".join(block for block, _ in code_export.csv_blocks_from_copy(contract))


def test_copy_and_python_paths_give_the_same_bytes(hostile_contract):
    contract, products = hostile_contract
    python, copied = _python_bytes(contract), _copied_bytes(contract)
    assert copied == python
    rows = list(csv.reader(io.StringIO(copied.decode(), newline="")))
    assert rows[0] == ["Code", "Product", "Redeemed", "Product URL"]
    assert len(rows) == 1 + 3 * len(products)
    # Exactly the neutralised cells, in the spec's columns.
    labels = {row[1] for row in rows[1:]}
    assert any(label.startswith('\'=HYPERLINK("http://evil.example","x") (') for label in labels)
    assert any(label.startswith("'\tleading tab (") for label in labels)
    assert any(label.startswith("'\rcarriage return (") for label in labels)
    assert any(label.startswith('say "hi", then\nleave (') for label in labels)
    assert "" in labels  # the product whose run is gone
    assert {row[2] for row in rows[1:]} >= {
        "'=cmd@example.com",
        "'+x@example.com",
        "'-y@example.com",
        '"q,c"@exämple.com',
        "No",
    }
    assert "'-=1+1" in {row[0] for row in rows[1:]}
    assert (
        rows[1][3] == f"https://learn.example.edu/it's%20here/cart/add/?product_id={products[0].pk}"
    )
    # Ordered by product, then code: the same order as the Python path.
    keys = [(int(row[3].rsplit("=", 1)[1]), row[0]) for row in rows[1:]]
    assert [product for product, _ in keys] == sorted(product for product, _ in keys)


def test_unlimited_codes_count_redemptions_in_both_paths(settings):
    contract, (product,) = contract_with_products(products=1, max_learners=None)
    reconcile(contract)
    code = codes(product).get()
    redeem(code)
    redeem(code)
    copied = _copied_bytes(contract)
    assert copied == _python_bytes(contract)
    assert copied.decode().split("\r\n")[1].split(",")[2] == "2"


def test_ordering_follows_products_then_codes_not_insertion(settings):
    contract, (early, late) = contract_with_products(products=2, max_learners=2)
    reconcile(contract)
    # Link a newer code to the earlier product: product order wins over code order.
    extra = Discount.objects.filter(b2b_contract=contract).order_by("-pk").first()
    DiscountProduct.objects.filter(discount=extra).update(product=early)
    copied = _copied_bytes(contract)
    assert copied == _python_bytes(contract)
    products = [line.rsplit("=", 1)[1] for line in copied.decode().split("\r\n")[1:-1]]
    assert products == [str(early.pk)] * 3 + [str(late.pk)]


def test_file_download_and_api_all_come_from_copy(hostile_contract, tmp_path, client):
    contract, products = hostile_contract
    expected = _python_bytes(contract)
    target = tmp_path / "codes.csv"
    assert code_export.write_codes_csv(contract, target) == 3 * len(products)
    assert target.read_bytes() == expected

    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    download = client.get(reverse("b2b_contract_codes_csv", args=[contract.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == expected

    api = client.get(f"/api/v1/b2b/contracts/{contract.pk}/codes.csv")
    assert api.status_code == 200
    assert b"".join(api.streaming_content) == expected


def test_an_empty_contract_is_a_header(settings):
    contract = f.ContractPageFactory()
    assert _copied_bytes(contract) == b"Code,Product,Redeemed,Product URL\r\n"
    assert _python_bytes(contract) == b"Code,Product,Redeemed,Product URL\r\n"


def test_the_export_reads_in_a_constant_number_of_queries(
    hostile_contract, tmp_path, django_assert_num_queries
):
    contract, _ = hostile_contract
    # The products' runs (2 queries, whatever the number of codes), then one COPY, which goes to
    # the driver directly and which Django does not count.
    with django_assert_num_queries(2):
        code_export.write_codes_csv(contract, tmp_path / "a.csv")
