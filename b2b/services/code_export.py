"""The enrollment-codes CSV: one row per usable or redeemed code of a contract, streamed."""

import csv
from collections.abc import Iterator
from pathlib import Path

from b2b.models import ContractPage
from ecommerce.selectors import code_product_runs, contract_code_rows, product_cart_url

CSV_HEADER = ["Code", "Product", "Redeemed", "Product URL"]
CHUNK_SIZE = 5000


def product_url(product_id: int) -> str:
    """The address that puts the product in the learner's cart."""
    return product_cart_url(product_id)


def _run_labels(contract: ContractPage) -> dict[int, str]:
    """Product id -> "title (run id)" for the products of the contract's codes."""
    return {
        product_id: f"{run.title} ({run.courseware_id})" if run else ""
        for product_id, run in code_product_runs(contract.pk).items()
    }


def iter_code_rows(contract: ContractPage) -> Iterator[list[str]]:
    """The CSV's rows, header first, streamed from the database in chunks."""
    base_url = product_url(0)[: -len("0")]
    labels = _run_labels(contract)
    yield CSV_HEADER
    for row in contract_code_rows(contract.pk, chunk_size=CHUNK_SIZE):
        redeemed = str(row.times_redeemed) if row.unlimited else (row.redeemer or "No")
        yield [row.code, labels[row.product_id], redeemed, f"{base_url}{row.product_id}"]


def write_codes_csv(contract: ContractPage, path: Path) -> int:
    """Write the contract's codes CSV to ``path``; returns the number of code rows."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        rows = iter_code_rows(contract)
        writer.writerow(next(rows))
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


class _Echo:
    """A file-like object whose write returns what it was given (for streaming CSV)."""

    def write(self, value: str) -> str:
        return value


def stream_codes_csv(contract: ContractPage) -> Iterator[str]:
    """The CSV as text lines, for a streaming HTTP response."""
    writer = csv.writer(_Echo())
    for row in iter_code_rows(contract):
        yield writer.writerow(row)
