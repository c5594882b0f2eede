"""Files the system hands out: CSV that spreadsheets cannot run, and private files written whole.

Every CSV the project writes (command listings, the codes file, staff and manager downloads)
goes through ``csv_writer``, which neutralises spreadsheet formulas in its cells
(``spreadsheet_safe``); ``csv_lines`` streams it as lines for an HTTP response.

``private_file`` writes a file that holds secrets (the enrollment codes): into a temporary file
of mode 0600 in the target's folder, moved onto the target only once complete, so the target
never holds half a file, and an existing file is replaced only when asked.
"""

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol, TextIO

# A spreadsheet reads a cell that starts with one of these as a formula (or, for tab and
# carriage return, may strip them and read what follows as one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that starts like a formula, with an apostrophe in front: spreadsheets show
    the text as it is instead of running it. Other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


class _Writable(Protocol):
    def write(self, value: str, /) -> Any: ...


class SpreadsheetSafeWriter:
    """``csv.writer`` whose cells go through ``spreadsheet_safe``; ``writerow`` returns what the
    underlying writer returns (the line, for a streaming response)."""

    def __init__(self, stream: _Writable, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: _Writable, **options: Any) -> SpreadsheetSafeWriter:
    """The project's one way to write CSV (options as for ``csv.writer``)."""
    return SpreadsheetSafeWriter(stream, **options)


class Echo:
    """A file-like object whose ``write`` returns what it was given: a CSV writer on it returns
    each line, for a streaming HTTP response."""

    def write(self, value: str, /) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """``rows`` as CSV lines (``csv_writer``, so spreadsheet-safe), one at a time, for a
    streaming HTTP response (``StreamingHttpResponse``)."""
    writer = csv_writer(Echo())
    for row in rows:
        yield writer.writerow(row)


def check_target(path: Path, *, replace: bool) -> None:
    """Raise the OSError writing ``path`` would meet before any work is done:
    IsADirectoryError, FileNotFoundError (no such folder), FileExistsError (without
    ``replace``)."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    if path.exists() and not replace:
        raise FileExistsError(f"{path} already exists")


@contextmanager
def private_file(path: Path, *, replace: bool) -> Iterator[TextIO]:
    """A text file, readable by its owner only, that appears at ``path`` complete or not at all.

    The block writes to a temporary file (mode 0600) in the same folder; when it ends without an
    error the file is moved onto ``path`` in one step. If the block raises (a database error
    half-way, Ctrl-C), the temporary file is removed and ``path`` is as it was. Without
    ``replace`` an existing ``path`` is never overwritten, even one that appeared meanwhile
    (FileExistsError). Other OSErrors (permissions, a full disk) propagate.
    """
    check_target(path, replace=replace)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part"
    )
    try:
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if path exists: never overwrites
            os.unlink(temporary)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
