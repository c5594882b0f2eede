"""Reading a manager's upload of people to invite: a CSV of e-mail addresses, with an optional
name column.

The file is refused as a whole, with one sentence the manager can act on, when it is too large,
not UTF-8 text, not CSV, has no e-mail column or too many rows (``UploadRefused``); otherwise
every non-blank row comes back with its line number, for the invitation service to judge. What
a row holds is never trusted: a spreadsheet formula in a name cell is refused for that row
(``formula_cells``), and the results file goes through ``config.exports.csv_writer`` anyway.
"""

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from b2b.exceptions import UploadRefused
from config.exports import FORMULA_STARTS

EMAIL_HEADERS = frozenset({"email", "e-mail", "email address", "e-mail address", "mail"})
NAME_HEADERS = frozenset({"name", "full name", "fullname", "learner", "learner name"})
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class UploadRow:
    line: int  # the row's line in the file, the header being line 1 when there is one
    email: str
    name: str


def _text(data: bytes) -> str:
    if b"\x00" in data:
        raise UploadRefused("The file is not a CSV text file. Upload a .csv file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UploadRefused(
            f"The file is not UTF-8 text (line {line}). In your spreadsheet, save it as "
            '"CSV UTF-8" and upload it again.'
        ) from None


def _delimiter(first_line: str) -> str:
    """The separator of the header line: a comma unless the line has none and has another."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(cells: list[str]) -> tuple[int, int | None] | None:
    """(e-mail column, name column) when the row names the columns; None otherwise."""
    names = [cell.strip().lower() for cell in cells]
    email = next((i for i, n in enumerate(names) if n in EMAIL_HEADERS), None)
    if email is None:
        return None
    name = next((i for i, n in enumerate(names) if n in NAME_HEADERS), None)
    return email, name


def _columns(first: list[str]) -> tuple[int, int | None, bool]:
    """(e-mail column, name column, whether the first row is a header)."""
    header = _header(first)
    if header is not None:
        return header[0], header[1], True
    if first and "@" in first[0]:
        return 0, 1 if len(first) > 1 else None, False
    raise UploadRefused(
        'The file has no e-mail column: its first line must name one "email" (and may name '
        'one "name"), or every line must start with an e-mail address.'
    )


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


class Upload(Protocol):
    """An uploaded file as Django hands it over (its size is known before it is read)."""

    size: int | None

    def read(self) -> bytes: ...


def _too_large(size: int, limit: int) -> UploadRefused:
    return UploadRefused(
        f"The file is too large ({size:,} bytes); the limit is {limit:,} bytes. "
        "Split it into smaller files."
    )


def read_invite_file(upload: Upload) -> list[UploadRow]:
    """The rows of a file of people to invite, for the manager pages and the manager API alike:
    refused unread when it is over B2B_INVITE_UPLOAD_MAX_BYTES, and at most B2B_INVITE_MAX_ROWS
    rows. Raises UploadRefused."""
    limit = settings.B2B_INVITE_UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise _too_large(upload.size, limit)
    return parse_invite_csv(upload.read(), max_rows=settings.B2B_INVITE_MAX_ROWS, max_bytes=limit)


def rows_of_list(rows: Sequence[Mapping[str, str]]) -> list[UploadRow]:
    """A list of people to invite given as data (the API's JSON rows: ``email`` and ``name``),
    numbered from 1, under the same row limit as a file. Raises UploadRefused."""
    limit = settings.B2B_INVITE_MAX_ROWS
    if len(rows) > limit:
        raise UploadRefused(f"At most {limit:,} rows at a time; split them.")
    return [
        UploadRow(line=place, email=row["email"].strip(), name=row["name"].strip())
        for place, row in enumerate(rows, start=1)
    ]


def parse_invite_csv(data: bytes, *, max_rows: int, max_bytes: int) -> list[UploadRow]:
    """The rows of an uploaded CSV, blank lines left out. Raises UploadRefused."""
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    text = _text(data)
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n")[0]), strict=True
    )
    rows: list[UploadRow] = []
    columns: tuple[int, int | None, bool] | None = None
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if columns is None:
                columns = _columns(cells)
                if columns[2]:
                    continue
            if len(rows) == max_rows:
                raise UploadRefused(
                    f"The file has more than {max_rows:,} rows. Split it into smaller files."
                )
            rows.append(
                UploadRow(
                    line=reader.line_num,
                    email=_cell(cells, columns[0]),
                    name=_cell(cells, columns[1]),
                )
            )
    except csv.Error as error:
        raise UploadRefused(
            f"The file is not valid CSV (line {reader.line_num}): {error}."
        ) from None
    if columns is None:
        raise UploadRefused("The file is empty.")
    if not rows:
        raise UploadRefused("The file has no e-mail addresses under its header.")
    return rows


def formula_cells(row: UploadRow) -> bool:
    """Whether the row's name starts like a spreadsheet formula (its row is refused)."""
    return row.name.startswith(FORMULA_STARTS)
