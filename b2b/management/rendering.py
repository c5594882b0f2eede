"""Output helpers shared by the B2B management commands: tables for people, JSON and CSV for
scripts, and progress of long steps (a bar on a terminal, a line every few seconds elsewhere).

Rows are read models (any objects); a ``Column`` says how to read one value from a row, and this
module formats the values: ``-`` for nothing and yes/no in tables, ISO dates in JSON and CSV, and
amounts with two places everywhere (``config.money.amount_text``, whichever database read them).
CSV cells are spreadsheet-safe (``config.exports.csv_writer``).
"""

import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO, cast

from django.conf import settings
from django.core.management.base import OutputWrapper
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from config.exports import csv_writer
from config.money import amount_text

FORMATS = ("table", "json", "csv")

# Where a listing is written: a text stream, or a command's ``self.stdout`` (Django's
# ``OutputWrapper``, which passes every call it does not define on to the stream it wraps).
Output = TextIO | OutputWrapper


@dataclass(frozen=True)
class Column:
    key: str  # the field's name in JSON and CSV
    heading: str  # the table's column heading
    value: Callable[[Any], Any] | None = None  # reads the value from a row; default: row.<key>

    def of(self, row: Any) -> Any:
        return self.value(row) if self.value is not None else getattr(row, self.key)


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return amount_text(value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return amount_text(value)
    return str(value)


def _json_rows(rows: Sequence[Any], columns: Sequence[Column]) -> list[dict[str, Any]]:
    return [{column.key: _plain(column.of(row)) for column in columns} for row in rows]


def render(
    stream: Output,
    rows: Sequence[Any],
    columns: Sequence[Column],
    *,
    fmt: str,
    title: str | None = None,
) -> None:
    """Write ``rows`` with ``columns`` in the chosen format."""
    if fmt == "json":
        stream.write(json.dumps(_json_rows(rows, columns), indent=2))
        stream.write("\n")
        return
    if fmt == "csv":
        writer = csv_writer(stream, lineterminator="\n")
        writer.writerow([column.key for column in columns])
        for row in rows:
            values = [column.of(row) for column in columns]
            writer.writerow(["" if value is None else _plain(value) for value in values])
        return
    console = make_console(stream)
    if not rows:
        console.print(f"No {title.lower() if title else 'rows'} found.")
        return
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column.heading, overflow="fold")
    for row in rows:
        table.add_row(*[_cell(column.of(row)) for column in columns])
    console.print(table)


def render_sections_json(
    stream: Output, sections: Mapping[str, tuple[Sequence[Any], Sequence[Column]]]
) -> None:
    """Several listings as one JSON object, keyed by section name: (rows, columns) each."""
    payload = {name: _json_rows(rows, columns) for name, (rows, columns) in sections.items()}
    stream.write(json.dumps(payload, indent=2))
    stream.write("\n")


def make_console(stream: Output) -> Console:
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    # Off a terminal, wide enough for the contracts table's columns side by side; a narrower
    # table keeps its own width. An OutputWrapper is a file to rich through the stream it wraps,
    # which its stubs do not say.
    return Console(
        file=cast(TextIO, stream), width=None if is_tty else 240, highlight=False, soft_wrap=False
    )


class TerminalProgress:
    """Progress of long steps on ``stream`` (default: stderr). On a terminal, a bar per step;
    otherwise a plain line ``<step>: <done>/<total>`` when a step starts, at most every
    ``interval`` seconds after that (default: settings.B2B_PROGRESS_LINE_SECONDS; ``clock`` tells
    the time), and when it is complete, so a log shows the command is alive."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = None,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._terminal = hasattr(self._stream, "isatty") and self._stream.isatty()
        self._clock = clock
        self._interval = settings.B2B_PROGRESS_LINE_SECONDS if interval is None else interval
        self._progress: Progress | None = None
        self._tasks: dict[str, Any] = {}
        self._written: dict[str, tuple[float, int]] = {}  # step: (when, done) of its last line

    def __enter__(self) -> Callable[[str, int, int], None]:
        if self._terminal:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self._stream),
                transient=False,
            )
            self._progress.start()
        return self.update

    def update(self, step: str, done: int, total: int) -> None:
        if self._progress is not None:
            if step not in self._tasks:
                self._tasks[step] = self._progress.add_task(step, total=total)
            self._progress.update(self._tasks[step], completed=done, total=total)
            return
        if not self._terminal:
            self._line(step, done, total)

    def _line(self, step: str, done: int, total: int) -> None:
        now = self._clock()
        last = self._written.get(step)
        if last is not None:
            when, last_done = last
            if done == last_done or (done < total and now - when < self._interval):
                return
        self._written[step] = (now, done)
        self._stream.write(f"{step}: {done}/{total}\n")
        self._stream.flush()

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()


def lines(stream: TextIO, items: Iterable[str]) -> None:
    for item in items:
        stream.write(f"{item}\n")
