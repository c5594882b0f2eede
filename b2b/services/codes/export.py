"""The enrollment-codes CSV: one row per usable or redeemed code of a contract, streamed.

The codes are bearer secrets: a file of them is written whole or not at all, readable by its
owner only, and never over an existing file unless asked (``config.exports.private_file``).
Cells are spreadsheet-safe, in the file and the download alike.

This module is the one way to produce the file (``b2b_list``'s codes file, the Wagtail download
and the REST API's CSV). On PostgreSQL the database lays the CSV out itself: one ``COPY (SELECT
...) TO STDOUT WITH (FORMAT csv, HEADER)`` streams it, in constant memory, and the rows never
become Python objects. Elsewhere (SQLite) the rows are read in chunks and written with
``config.exports.csv_writer``. Both give the same bytes: the same header, cells, quoting,
formula neutralisation (``spreadsheet_safe_sql`` is ``spreadsheet_safe`` in SQL), order and
CRLF line ends.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from django.db import connection

from b2b.exceptions import CodesFileError, CodesFileExists
from b2b.models import ContractPage
from config.exports import Echo, check_target, csv_writer, private_file, spreadsheet_safe_sql
from ecommerce.enums import RedemptionType
from ecommerce.services.contract_codes.reads import product_cart_url
from ecommerce.services.contract_codes.rows import (
    code_product_runs,
    contract_code_rows,
    contract_code_rows_sql,
)

CSV_HEADER = ["Code", "Product", "Redeemed", "Product URL"]
CHUNK_SIZE = 5000
# COPY's rows are gathered into blocks of about this many bytes before they are written or sent.
BLOCK_BYTES = 1 << 16
EMPTY = "''"  # the empty SQL string


def product_url(product_id: int) -> str:
    """The address that puts the product in the learner's cart."""
    return product_cart_url(product_id)


def _run_labels(contract: ContractPage) -> dict[int, str]:
    """Product id -> "title (run id)" for the products of the contract's codes."""
    return {
        product_id: f"{run.title} ({run.courseware_id})" if run else ""
        for product_id, run in code_product_runs(contract.pk).items()
    }


def _cart_url_base() -> str:
    """The product URL up to the product id."""
    return product_url(0)[: -len("0")]


def iter_code_rows(contract: ContractPage) -> Iterator[list[str]]:
    """The CSV's rows, header first, streamed from the database in chunks."""
    base_url = _cart_url_base()
    labels = _run_labels(contract)
    yield CSV_HEADER
    for row in contract_code_rows(contract.pk, chunk_size=CHUNK_SIZE):
        redeemed = str(row.times_redeemed) if row.unlimited else (row.redeemer or "No")
        yield [row.code, labels[row.product_id], redeemed, f"{base_url}{row.product_id}"]


def _compose(sql: str, params: list[Any]) -> str:
    """``sql`` with its ``%s`` parameters quoted in by psycopg (COPY takes no bound parameters).
    PostgreSQL's database operations only: this path runs on PostgreSQL."""
    return connection.ops.compose_sql(sql, params)  # type: ignore[attr-defined]


def _literal(value: str) -> str:
    """``value`` as an SQL literal, ready to go into a statement that is composed with its
    parameters afterwards (a ``%`` is doubled)."""
    return _compose("%s", [value]).replace("%", "%%")


def _copy_statement(contract: ContractPage) -> str:
    """The ``COPY`` that writes the contract's codes CSV, header first, with the cells of
    ``iter_code_rows`` as ``csv_writer`` writes them. An empty cell is NULL: COPY writes NULL
    unquoted, as Python's csv writes an empty string (COPY would quote an empty string)."""
    rows_sql, rows_params = contract_code_rows_sql(contract.pk)
    unlimited = _literal(RedemptionType.UNLIMITED.value)
    redeemed = (
        f"CASE WHEN code_rows.redemption = {unlimited} THEN code_rows.times_redeemed::text "
        "ELSE coalesce(nullif(code_rows.redeemer, ''), 'No') END"
    )
    url = f"{_literal(_cart_url_base())} || code_rows.sold_product::text"
    cells = zip(CSV_HEADER, ("code_rows.code", "run_labels.label", redeemed, url), strict=True)
    select = ", ".join(
        f'{spreadsheet_safe_sql(f"nullif({cell}, {EMPTY})")} AS "{name}"' for name, cell in cells
    )
    sql = (
        f"COPY (SELECT {select} FROM ({rows_sql}) AS code_rows "
        "LEFT JOIN jsonb_each_text(%s::jsonb) AS run_labels(product, label) "
        "ON run_labels.product = code_rows.sold_product::text "
        "ORDER BY code_rows.sold_product, code_rows.code_id) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    labels = json.dumps({str(product): label for product, label in _run_labels(contract).items()})
    return _compose(sql, [*rows_params, labels])


def csv_blocks_from_copy(contract: ContractPage) -> Iterator[tuple[bytes, int]]:
    """The CSV laid out by PostgreSQL's COPY, header first, in blocks of about ``BLOCK_BYTES``, each
    with the number of lines (header or code rows) it holds.

    PostgreSQL sends a COPY's output one row per message, each ending in a newline; the
    newline becomes CRLF, the line end of Python's csv writer (a newline inside a quoted cell
    is kept as it is, by both)."""
    statement = _copy_statement(contract)
    block, lines = bytearray(), 0
    # The driver's own COPY bypasses Django's cursor wrapper: ``wrap_database_errors`` turns its
    # errors into Django's (a dropped connection is then an OperationalError the commands and
    # views already handle, never a driver traceback).
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in copy:
            block += row[:-1]
            block += b"\r\n"
            lines += 1
            if len(block) >= BLOCK_BYTES:
                yield bytes(block), lines
                block, lines = bytearray(), 0
    if block:
        yield bytes(block), lines


def database_lays_out_csv() -> bool:
    """Whether the database writes the CSV itself (PostgreSQL's COPY)."""
    return connection.vendor == "postgresql"


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
            if database_lays_out_csv():
                return _write_copied(handle, contract)
            lines = -1  # the header is not a code
            for line in csv_lines_in_python(contract):
                handle.write(line)
                lines += 1
            return lines
    except OSError as error:
        raise _file_error(path, error) from None


def _write_copied(handle: TextIO, contract: ContractPage) -> int:
    """Write COPY's CSV to the text file ``handle``, as the UTF-8 bytes the database sent;
    returns the number of code rows."""
    handle.flush()
    lines = -1  # the header is not a code
    for block, block_lines in csv_blocks_from_copy(contract):
        handle.buffer.write(block)
        lines += block_lines
    return lines


def csv_lines_in_python(contract: ContractPage) -> Iterator[str]:
    """The CSV as text lines, header first, laid out by ``csv_writer`` (any database)."""
    writer = csv_writer(Echo())
    for row in iter_code_rows(contract):
        yield writer.writerow(row)


def stream_codes_csv(contract: ContractPage) -> Iterator[str | bytes]:
    """The CSV for a streaming HTTP response: blocks of UTF-8 bytes from COPY on PostgreSQL,
    text lines elsewhere."""
    if database_lays_out_csv():
        for block, _ in csv_blocks_from_copy(contract):
            yield block
    else:
        yield from csv_lines_in_python(contract)
