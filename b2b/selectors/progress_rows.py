"""Reads of a contract's learners' progress one by one: the rows with the table's filters,
search and sort, a page of them as the manager sees it, the filters' counts, the CSV, and the
organization's feed of changed rows for the API. The figures are ``b2b.selectors.progress``.

Callers ask ``b2b.selectors.progress.shows_learners`` first: these reads do not check the
contract's visibility, except the feed, which leaves out the aggregates-only contracts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)

from b2b.enums import ProgressVisibility
from b2b.models import (
    AttentionCutoffs,
    ContractPage,
    LearnerProgress,
    OrganizationPage,
    certified_q,
    needs_attention_q,
    started_q,
)

# The table's filters ("show"), in the order the page offers them.
FILTERS: dict[str, str] = {
    "not-started": "Not started",
    "needs-attention": "Needs attention",
    "passed": "Passed",
    "certified": "Certified",
}

# The table's sort keys: a name in the query string, and the fields it orders by.
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("user__name", "edx_username"),
    "email": ("user__email", "edx_email"),
    "run": ("run__courseware_id", "edx_username"),
    "enrolled": ("enrolled_on",),
    "grade": ("grade_percent",),
    "passed": ("first_passed_on",),
    "certificate": ("cert_status", "cert_created_on"),
    "changed": ("changed_on",),
}
DEFAULT_SORT = "name"


def progress_rows(
    contract_id: int,
    cutoffs: AttentionCutoffs,
    *,
    show: str = "",
    search: str = "",
    sort: str = "",
) -> QuerySet[LearnerProgress]:
    """The contract's rows, each with ``attention`` (needs attention at ``cutoffs``), its user
    and run, filtered by ``show`` (a key of ``FILTERS``; anything else: all), whose name,
    e-mail or Open edX username contains ``search``, ordered by ``sort`` (a key of ``SORTS``,
    ``-`` first for descending; anything else: by name). The caller pages it.

    It does not check the contract's visibility: callers ask ``shows_learners`` first.
    """
    rows = LearnerProgress.objects.filter(contract_id=contract_id)
    if show == "not-started":
        rows = rows.not_started()
    elif show == "needs-attention":
        rows = rows.needing_attention(cutoffs)
    elif show == "passed":
        rows = rows.passed()
    elif show == "certified":
        rows = rows.certified()
    search = search.strip()
    if search:
        rows = rows.filter(
            Q(user__name__icontains=search)
            | Q(user__email__icontains=search)
            | Q(edx_username__icontains=search)
            | Q(edx_email__icontains=search)
        )
    descending = sort.startswith("-")
    fields = SORTS.get(sort.removeprefix("-"), SORTS[DEFAULT_SORT])
    # Empty values (no name, no grade yet) last either way, on SQLite as on PostgreSQL.
    order = [
        F(f).desc(nulls_last=True) if descending else F(f).asc(nulls_last=True) for f in fields
    ]
    return (
        rows.select_related("user", "run")
        .annotate(
            attention=ExpressionWrapper(
                Case(
                    When(needs_attention_q(cutoffs), then=Value(True)),
                    default=Value(False),
                ),
                output_field=BooleanField(),
            )
        )
        .order_by(*order, "pk")
    )


def rows_changed_since(
    organization: OrganizationPage, since: datetime | None, *, until: datetime | None = None
) -> QuerySet[LearnerProgress]:
    """The organization's rows (of its contracts that show learners one by one) changed after
    ``since`` (all when None) and, with ``until``, not after it, oldest change first: the API's
    feed for HR systems."""
    contracts = ContractPage.objects.of_organization(organization).exclude(
        progress_visibility=ProgressVisibility.AGGREGATES
    )
    rows = LearnerProgress.objects.filter(contract__in=contracts)
    if since is not None:
        rows = rows.filter(changed_on__gt=since)
    if until is not None:
        rows = rows.filter(changed_on__lte=until)
    return rows.select_related("user", "run", "contract").order_by("changed_on", "pk")


# The learners' table, as the manager pages and the CSV show it.


def certificate_link(url: str) -> str:
    """The certificate's download address when it is a web address (http or https, with a
    host), else "": anything else (javascript:, data:, a bare path) is never made a link."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def grade_shown(percent: Decimal | None) -> int | None:
    """A grade (0 to 1) as a whole percent."""
    return None if percent is None else round(percent * 100)


@dataclass(frozen=True)
class ProgressLine:
    """A learner's row in one run, as the manager sees it. An Open edX learner we could not
    match to one of ours (``unmapped``) is shown by their Open edX username and e-mail."""

    row: LearnerProgress
    name: str
    email: str
    unmapped: bool
    grade: int | None  # whole percent; None when not started
    certificate_link: str  # "" unless a web address
    attention: bool


def progress_line(row: LearnerProgress, cutoffs: AttentionCutoffs) -> ProgressLine:
    user = row.user
    attention = getattr(row, "attention", None)
    return ProgressLine(
        row=row,
        name=(user.name or user.email) if user is not None else row.edx_username,
        email=user.email if user is not None else row.edx_email,
        unmapped=user is None,
        grade=grade_shown(row.grade_percent) if row.is_started else None,
        certificate_link=certificate_link(row.cert_url),
        attention=row.needs_attention(cutoffs) if attention is None else bool(attention),
    )


@dataclass(frozen=True)
class ProgressPage:
    lines: tuple[ProgressLine, ...]
    total: int  # rows matching the filter and search
    page: int  # 1-based, within 1..pages
    pages: int
    flagged_on_page: int  # lines needing attention on this page (the nudge checkboxes)


def progress_page(
    contract_id: int,
    cutoffs: AttentionCutoffs,
    *,
    show: str = "",
    search: str = "",
    sort: str = "",
    page: int = 1,
    per_page: int = 50,
) -> ProgressPage:
    """One page of ``progress_rows`` (two queries, whatever the page size)."""
    rows = progress_rows(contract_id, cutoffs, show=show, search=search, sort=sort)
    total = rows.count()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    lines = tuple(
        progress_line(row, cutoffs) for row in rows[(page - 1) * per_page : page * per_page]
    )
    return ProgressPage(
        lines=lines,
        total=total,
        page=page,
        pages=pages,
        flagged_on_page=sum(1 for line in lines if line.attention),
    )


def filter_counts(contract_id: int, cutoffs: AttentionCutoffs) -> dict[str, int]:
    """The number of rows each filter of ``FILTERS`` shows, and "all" (one query). The same
    rules as ``progress_rows``' filters, so a count and its filter agree."""
    figures = LearnerProgress.objects.filter(contract_id=contract_id).aggregate(
        all=Count("pk"),
        not_started=Count("pk", filter=Q(active=True) & ~started_q()),
        needs_attention=Count("pk", filter=needs_attention_q(cutoffs)),
        passed=Count("pk", filter=Q(passed=True)),
        certified=Count("pk", filter=certified_q()),
    )
    return {key.replace("_", "-"): value or 0 for key, value in figures.items()}


PROGRESS_CSV_HEADER = [
    "Name",
    "E-mail",
    "Open edX username",
    "Run",
    "Enrolled on",
    "Grade (%)",
    "Letter grade",
    "Passed on",
    "Certificate",
    "Certificate URL",
    "Last change seen",
    "Needs attention",
    "Last nudged",
    "As of",
]
PROGRESS_CSV_CHUNK = 1000


def _when(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def progress_csv_row(line: ProgressLine) -> list[str]:
    row = line.row
    return [
        line.name,
        line.email,
        row.edx_username,
        row.run.courseware_id,
        _when(row.enrolled_on),
        "" if line.grade is None else str(line.grade),
        row.letter_grade,
        _when(row.first_passed_on),
        row.cert_status,
        line.certificate_link,
        _when(row.changed_on),
        "yes" if line.attention else "no",
        _when(row.last_nudged_on),
        _when(row.as_of),
    ]


def iter_progress_csv_rows(
    contract_id: int, cutoffs: AttentionCutoffs, *, chunk: int = PROGRESS_CSV_CHUNK
) -> Iterator[list[str]]:
    """The header, then every row of the contract (``PROGRESS_CSV_HEADER``) in the order they
    were first seen, read ``chunk`` rows a query (keyset on the id, so a row written meanwhile
    neither repeats nor shifts the rest). The cells are plain text: the writer
    (``config.exports.csv_lines``) makes them spreadsheet-safe. It does not check the
    contract's visibility: callers ask ``shows_learners`` first."""
    yield list(PROGRESS_CSV_HEADER)
    rows = progress_rows(contract_id, cutoffs).order_by("pk")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:chunk])
        for row in batch:
            yield progress_csv_row(progress_line(row, cutoffs))
        if len(batch) < chunk:
            return
        last = batch[-1].pk
