"""The enrollment-codes CSV: one row per usable or redeemed code of a contract, streamed.

The codes are bearer secrets: a file of them is written whole or not at all, readable by its
owner only, and never over an existing file unless asked (``config.exports.private_file``).
Cells are spreadsheet-safe (``config.exports.csv_writer``), in the file and the download alike.
"""

from collections.abc import Iterator
from pathlib import Path

from b2b.exceptions import CodesFileError, CodesFileExists
from b2b.models import ContractPage
from config.exports import Echo as _Echo
from config.exports import check_target, csv_writer, private_file
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


def _file_error(path: Path, error: OSError) -> CodesFileError:
    if isinstance(error, FileExistsError):
        return CodesFileExists(f"{path} already exists")
    if isinstance(error, IsADirectoryError):
        return CodesFileError(f"Cannot write {path}: it is a folder")
    if not path.parent.is_dir():
        return CodesFileError(f"Cannot write {path}: folder {path.parent} does not exist")
    return CodesFileError(f"Cannot write {path}: {error.strerror or error}")


def check_codes_file(path: Path, *, replace: bool = False) -> None:
    """Refuse at once a ``path`` the codes cannot be written to: a folder, in a missing folder,
    or an existing file without ``replace``. Raises CodesFileError (CodesFileExists)."""
    try:
        check_target(path, replace=replace)
    except OSError as error:
        raise _file_error(path, error) from None


def write_codes_csv(contract: ContractPage, path: Path, *, replace: bool = False) -> int:
    """Write the contract's codes CSV to ``path``, complete or not at all, mode 0600; returns the
    number of code rows. An existing file is replaced only with ``replace``.

    Raises CodesFileError (CodesFileExists); a database error half-way leaves no file.
    """
    check_codes_file(path, replace=replace)
    try:
        with private_file(path, replace=replace) as handle:
            writer = csv_writer(handle)
            rows = iter_code_rows(contract)
            writer.writerow(next(rows))
            count = 0
            for row in rows:
                writer.writerow(row)
                count += 1
    except OSError as error:
        raise _file_error(path, error) from None
    return count


def stream_codes_csv(contract: ContractPage) -> Iterator[str]:
    """The CSV as text lines, for a streaming HTTP response."""
    writer = csv_writer(_Echo())
    for row in iter_code_rows(contract):
        yield writer.writerow(row)
