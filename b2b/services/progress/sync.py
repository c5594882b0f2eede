"""The progress sync: each contract run's learners as Open edX reports them, swept page by page
into ``LearnerProgress``, resumable where it stopped.

A sweep of a run reads three phases in order: the enrollments (mode, active, enrolled on), the
course-wide current grades (percent, letter grade, passed) and the certificates of the learners
who pass, passed once or hold one already. Each page is one transaction that writes the page's
rows and moves the run's ``RunProgressSync`` to the next page (``phase``, ``cursor``), so a
worker killed half way leaves the run at its next page and the next sync continues there.

Per page, whatever its size, a constant number of queries: the claim check on the sync row, one
read of the page's existing rows, one read mapping usernames to users (enrollments; grades only
for learners new to us), one ``bulk_create`` for new rows, one upsert for the changed ones, and
the cursor write. A row is written only when a value changed; ``changed_on`` then moves to the
time of the write. ``as_of`` is the sweep's start (``sweep_as_of``): rows written get it with
their values, and when the sweep finishes one UPDATE gives it to the run's other rows (a sweep
that saw nothing new writes no row's values, but every row then says how recent it is).

One sync of a run at a time: the sync claims the run (state running, ``last_attempt_on`` its
heartbeat, written with every page) under ``SELECT ... FOR UPDATE NOWAIT``, and every page
checks, under the same lock, that the claim is still its own. A second sync finds the claim and
returns "already running"; a claim whose heartbeat is older than ``CLAIM_STALE_AFTER`` was left
by a killed worker and is taken over, resuming at its cursor.

Open edX's faults: a 429 waits for its Retry-After, a 5xx, a timeout or a reset connection
waits 1, 2, 4... seconds (both capped by ``B2B_PROGRESS_RETRY_MAX_SECONDS``), for at most
``B2B_PROGRESS_SYNC_ATTEMPTS`` tries of one page. A run still failing is recorded (state failed,
``failures`` + 1, ``last_error``) and left at its cursor; the other runs go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from b2b.enums import ProgressPhase, ProgressSyncState
from b2b.exceptions import ContractNotFound, NotAContractRun
from b2b.models import ContractPage, LearnerProgress, RunProgressSync
from b2b.selectors import progress_sync as selectors
from config.db_errors import one_line
from config.queueing import queue_after_commit
from courses import openedx
from courses.exceptions import (
    CourseRunNotFound,
    OpenEdxError,
    OpenEdxThrottled,
    OpenEdxTransientError,
)
from courses.models import CourseRun

log = logging.getLogger(__name__)

T = TypeVar("T")

SYNC_RUN_TASK = "b2b.sync_run_progress"
SYNC_CONTRACT_TASK = "b2b.sync_contract_progress"
SYNC_LIVE_TASK = "b2b.sync_live_progress"

# Learners whose certificate is read per page of the certificates phase (one call each).
CERTIFICATE_PAGE = 50
# A running claim whose heartbeat is older than this was left by a worker that died.
CLAIM_STALE_AFTER = timedelta(minutes=30)
ERROR_LENGTH = 500
GRADE_PLACES = Decimal("0.0001")

Sleep = Callable[[float], None]
Report = Callable[[str, int, int], None]


class SyncOutcome(StrEnum):
    SYNCED = "synced"
    FAILED = "failed"
    ALREADY_RUNNING = "already running"


@dataclass
class RunSyncResult:
    """What one sync of a run did (or, for a dry run, would do). ``written``: rows created or
    changed, counted per phase that wrote them."""

    run_id: int
    courseware_id: str
    outcome: SyncOutcome
    dry_run: bool = False
    learners: int = 0
    unmapped: int = 0
    written: int = 0
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome is SyncOutcome.FAILED


class _TakenOver(Exception):
    """Another sync holds the run now: this one stops, its page not written."""


# --- retries -----------------------------------------------------------------------------------


def retry_wait(exc: OpenEdxTransientError, attempt: int) -> float:
    """How long to wait before trying a page again after its ``attempt``-th failure: the
    Retry-After of a 429, else 1, 2, 4... seconds; at most B2B_PROGRESS_RETRY_MAX_SECONDS."""
    wait = exc.wait_seconds if isinstance(exc, OpenEdxThrottled) else None
    if wait is None:
        wait = float(2 ** (attempt - 1))
    return min(wait, float(settings.B2B_PROGRESS_RETRY_MAX_SECONDS))


def _retrying(call: Callable[[], T], sleep: Sleep) -> T:
    attempts = max(settings.B2B_PROGRESS_SYNC_ATTEMPTS, 1)
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except OpenEdxTransientError as exc:
            if attempt == attempts:
                raise
            wait = retry_wait(exc, attempt)
            log.info("%s; trying again in %s s (attempt %s of %s)", exc, wait, attempt, attempts)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def certificates_of(
    usernames: list[str], key: str, sleep: Sleep
) -> list[openedx.EdxCertificate | None]:
    """The learners' certificates in run ``key``, in their order: one request each (Open edX
    has no course-wide list), B2B_PROGRESS_CERTIFICATE_REQUESTS at a time, each retried on its
    own. The first error that outlasts its retries is raised once the others have ended."""

    def one(username: str) -> openedx.EdxCertificate | None:
        return _retrying(lambda: openedx.certificate_of(username, key), sleep)

    width = max(1, min(settings.B2B_PROGRESS_CERTIFICATE_REQUESTS, len(usernames)))
    if width == 1:
        return [one(username) for username in usernames]
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="progress-cert") as pool:
        return list(pool.map(one, usernames))


# --- the rows' values --------------------------------------------------------------------------


def _grade(percent: float) -> Decimal:
    return Decimal(str(percent)).quantize(GRADE_PLACES, rounding=ROUND_HALF_UP)


def _apply(row: LearnerProgress, values: dict[str, Any]) -> set[str]:
    """Set the values that differ; the names of those that did."""
    changed = {name for name, value in values.items() if getattr(row, name) != value}
    for name in changed:
        setattr(row, name, values[name])
    return changed


def _enrollment_values(item: openedx.EdxEnrollment, user_id: int | None) -> dict[str, Any]:
    return {
        "mode": item.mode,
        "active": item.active,
        "enrolled_on": item.created,
        "user_id": user_id,
    }


def _grade_values(row: LearnerProgress, item: openedx.EdxGrade, seen: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "grade_percent": _grade(item.percent),
        "letter_grade": item.letter_grade,
        "passed": item.passed,
    }
    if item.email:
        values["edx_email"] = item.email
    if item.passed and row.first_passed_on is None:
        values["first_passed_on"] = seen
    return values


def _certificate_values(certificate: openedx.EdxCertificate | None) -> dict[str, Any]:
    if certificate is None:
        return {"cert_status": "", "cert_url": "", "cert_created_on": None}
    return {
        "cert_status": certificate.status,
        "cert_url": certificate.download_url,
        "cert_created_on": certificate.created,
    }


# --- where the rows go -------------------------------------------------------------------------


@dataclass
class _PageWrites:
    new: list[LearnerProgress] = field(default_factory=list)
    changed: list[LearnerProgress] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.new) + len(self.changed)


def _unsaved_copy(row: LearnerProgress) -> LearnerProgress:
    """The row's values without its id, for the upsert (an insert that names the id would
    conflict on the primary key before the (run, username) it updates on)."""
    return LearnerProgress(
        **{
            f.attname: getattr(row, f.attname)
            for f in LearnerProgress._meta.concrete_fields
            if not f.primary_key
        }
    )


class _Store:
    """The database: each page in one transaction, under the run's claim."""

    def __init__(self, run: CourseRun, heartbeat: datetime) -> None:
        self.run = run
        self.heartbeat = heartbeat

    def rows(self, usernames: Iterable[str]) -> dict[str, LearnerProgress]:
        return selectors.progress_rows(self.run.pk, usernames)

    def users(self, usernames: Iterable[str]) -> dict[str, int]:
        return selectors.users_by_username(self.run.pk, usernames)

    def certificate_candidates(self, after: str) -> list[LearnerProgress]:
        return selectors.certificate_candidates(self.run.pk, after=after, limit=CERTIFICATE_PAGE)

    @contextmanager
    def page(self) -> Iterator[None]:
        with transaction.atomic():
            if not _claimed(self.run.pk, self.heartbeat):
                raise _TakenOver()
            yield

    def save(self, writes: _PageWrites, phase: str, cursor: str) -> None:
        """Write the page's rows and move the cursor (inside ``page()``).

        ``changed_on`` is the time of the write, not the sweep's start: the API's feed returns
        the rows changed since a reader's last ``as_of``, and a row stamped with the start of a
        long sweep would fall behind a read made while the sweep ran.
        """
        beat = timezone.now()
        for row in writes.new:
            row.changed_on = beat
        for row in writes.changed:
            row.changed_on = beat
        if writes.new:
            LearnerProgress.objects.bulk_create(writes.new, ignore_conflicts=True)
        if writes.changed:
            # One upsert on (run, username), not bulk_update: Django's bulk_update builds a CASE
            # per row and field, which took most of a sync's time (make bench-progress --profile).
            LearnerProgress.objects.bulk_create(
                [_unsaved_copy(row) for row in writes.changed],
                update_conflicts=True,
                unique_fields=["run", "edx_username"],
                update_fields=sorted(writes.fields),
            )
        RunProgressSync.objects.filter(pk=self.run.pk).update(
            phase=phase,
            cursor=cursor,
            last_attempt_on=beat,
            rows_written=F("rows_written") + writes.count,
        )
        self.heartbeat = beat


class _DryRunStore:
    """Memory: the run's rows read once, the page's changes kept here, nothing written."""

    def __init__(self, run: CourseRun) -> None:
        self.run = run
        self._rows = selectors.all_progress_rows(run.pk)
        self.written = 0

    def rows(self, usernames: Iterable[str]) -> dict[str, LearnerProgress]:
        return {name: self._rows[name] for name in usernames if name in self._rows}

    def users(self, usernames: Iterable[str]) -> dict[str, int]:
        return selectors.users_by_username(self.run.pk, usernames)

    def certificate_candidates(self, after: str) -> list[LearnerProgress]:
        names = sorted(
            name
            for name, row in self._rows.items()
            if name > after and (row.passed or row.first_passed_on or row.cert_status)
        )
        return [self._rows[name] for name in names[:CERTIFICATE_PAGE]]

    @contextmanager
    def page(self) -> Iterator[None]:
        yield

    def save(self, writes: _PageWrites, phase: str, cursor: str) -> None:
        for row in writes.new:
            self._rows[row.edx_username] = row
        self.written += writes.count

    def figures(self) -> tuple[int, int]:
        rows = self._rows.values()
        return len(rows), sum(1 for row in rows if row.user_id is None)


# --- the claim ---------------------------------------------------------------------------------


def _claimed(run_id: int, heartbeat: datetime) -> bool:
    """Whether the run's claim is still the one with this heartbeat. Locks its sync row,
    waiting for a second sync that is only looking at it (``_claim``, a moment)."""
    return (
        RunProgressSync.objects.select_for_update(no_key=True)
        .filter(pk=run_id, state=ProgressSyncState.RUNNING, last_attempt_on=heartbeat)
        .exists()
    )


def _claim(run: CourseRun, now: datetime) -> RunProgressSync | None:
    """Claim the run for a sync, resuming a sweep left unfinished (failed, or its worker
    killed) at its cursor; None when another sync holds it."""
    RunProgressSync.objects.get_or_create(run=run)
    try:
        with transaction.atomic():
            sync = RunProgressSync.objects.select_for_update(nowait=True, no_key=True).get(
                pk=run.pk
            )
            if sync.state == ProgressSyncState.RUNNING and (
                sync.last_attempt_on is not None and sync.last_attempt_on > now - CLAIM_STALE_AFTER
            ):
                return None
            if sync.state == ProgressSyncState.IDLE or sync.sweep_as_of is None:
                sync.phase, sync.cursor = ProgressPhase.ENROLLMENTS, ""
                sync.sweep_as_of, sync.rows_written = now, 0
            sync.state, sync.last_attempt_on = ProgressSyncState.RUNNING, now
            sync.save()
            return sync
    except DatabaseError as exc:  # NOWAIT: another sync has the row locked this instant
        log.info("Progress sync of %s: the run is locked (%s)", run.courseware_id, one_line(exc))
        return None


def _finish(run: CourseRun, store: _Store, sweep_as_of: datetime) -> tuple[int, int, int]:
    with store.page():
        learners, unmapped = selectors.run_figures(run.pk)
        LearnerProgress.objects.filter(run_id=run.pk, as_of__lt=sweep_as_of).update(
            as_of=sweep_as_of
        )
        RunProgressSync.objects.filter(pk=run.pk).update(
            state=ProgressSyncState.IDLE,
            phase=ProgressPhase.ENROLLMENTS,
            cursor="",
            last_success_on=timezone.now(),
            failures=0,
            last_error="",
            learners=learners,
            unmapped=unmapped,
        )
        written = RunProgressSync.objects.values_list("rows_written", flat=True).get(pk=run.pk)
    return learners, unmapped, written


def _record_failure(run: CourseRun, heartbeat: datetime, error: str) -> None:
    with transaction.atomic():
        if _claimed(run.pk, heartbeat):
            RunProgressSync.objects.filter(pk=run.pk).update(
                state=ProgressSyncState.FAILED,
                failures=F("failures") + 1,
                last_error=error,
            )


# --- the sweep ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Certificates:
    """A page of the certificates phase: the rows read, and what Open edX said of each."""

    rows: list[LearnerProgress]
    found: list[openedx.EdxCertificate | None]


@dataclass
class _Sweep:
    run: CourseRun
    store: _Store | _DryRunStore
    sweep_as_of: datetime
    sleep: Sleep
    report: Report | None
    pages: dict[str, int] = field(default_factory=dict)  # pages read, per phase

    def _new_row(self, username: str, user_id: int | None) -> LearnerProgress:
        return LearnerProgress(
            contract_id=self.run.b2b_contract_id,
            run_id=self.run.pk,
            edx_username=username,
            user_id=user_id,
            as_of=self.sweep_as_of,
            changed_on=self.sweep_as_of,
        )

    def _written(self, writes: _PageWrites, row: LearnerProgress, changed: set[str]) -> None:
        if not changed:
            return
        row.as_of = row.changed_on = self.sweep_as_of
        writes.changed.append(row)
        writes.fields |= changed | {"as_of", "changed_on"}

    def _tell(self, phase: str, more: bool) -> None:
        """Report the pages read of the phase; the total is one more while more follow."""
        done = self.pages[phase] = self.pages.get(phase, 0) + 1
        if self.report is not None:
            self.report(f"{self.run.courseware_id} {phase}", done, done + (1 if more else 0))

    # Each phase has a fetch (Open edX only, no database: it may run on the fetch thread) and
    # a write (the page's transaction). A fetch returns None when the phase has nothing left.

    def _fetch(self, phase: str, cursor: str) -> Callable[[], object] | None:
        key = self.run.courseware_id
        if phase == ProgressPhase.ENROLLMENTS:
            return lambda: _retrying(
                lambda: openedx.enrollments_page(key, cursor=cursor), self.sleep
            )
        if phase == ProgressPhase.GRADES:
            return lambda: _retrying(
                lambda: openedx.course_grades_page(key, cursor=cursor), self.sleep
            )
        # The certificates to read are the rows that pass or hold one: read here, in the
        # sweep's thread, from what the grades phase wrote.
        rows = self.store.certificate_candidates(cursor)
        if not rows:
            return None
        return lambda: _Certificates(
            rows, certificates_of([row.edx_username for row in rows], key, self.sleep)
        )

    @staticmethod
    def _following(phase: str, page: object) -> tuple[str, str] | None:
        """The phase and cursor after ``page``; None when the sweep is done."""
        if isinstance(page, _Certificates):
            if len(page.rows) < CERTIFICATE_PAGE:
                return None
            return ProgressPhase.CERTIFICATES, page.rows[-1].edx_username
        assert isinstance(page, openedx.Page)
        if page.next_cursor:
            return phase, page.next_cursor
        return (
            (ProgressPhase.GRADES, "")
            if phase == ProgressPhase.ENROLLMENTS
            else (ProgressPhase.CERTIFICATES, "")
        )

    def _write_enrollments(
        self, page: openedx.Page[openedx.EdxEnrollment], following: tuple[str, str]
    ) -> None:
        names = [item.username for item in page.items]
        writes = _PageWrites()
        with self.store.page():
            rows, users = self.store.rows(names), self.store.users(names)
            for item in page.items:
                values = _enrollment_values(item, users.get(item.username))
                row = rows.get(item.username)
                if row is None:
                    row = self._new_row(item.username, values["user_id"])
                    _apply(row, values)
                    writes.new.append(row)
                    rows[item.username] = row
                else:
                    self._written(writes, row, _apply(row, values))
            self.store.save(writes, *following)

    def _write_grades(
        self, page: openedx.Page[openedx.EdxGrade], following: tuple[str, str]
    ) -> None:
        names = [item.username for item in page.items]
        writes = _PageWrites()
        with self.store.page():
            rows = self.store.rows(names)
            unknown = [name for name in names if name not in rows]
            users = self.store.users(unknown) if unknown else {}
            for item in page.items:
                row = rows.get(item.username)
                if row is None:  # enrolled since the enrollments were read
                    row = self._new_row(item.username, users.get(item.username))
                    row.active = True
                    _apply(row, _grade_values(row, item, timezone.now()))
                    writes.new.append(row)
                    rows[item.username] = row
                else:
                    changed = _apply(row, _grade_values(row, item, timezone.now()))
                    self._written(writes, row, changed)
            self.store.save(writes, *following)

    def _write_certificates(
        self,
        rows: list[LearnerProgress],
        found: list[openedx.EdxCertificate | None],
    ) -> None:
        writes = _PageWrites()
        with self.store.page():
            for row, certificate in zip(rows, found, strict=True):
                self._written(writes, row, _apply(row, _certificate_values(certificate)))
            self.store.save(writes, ProgressPhase.CERTIFICATES, rows[-1].edx_username)

    def _write(self, phase: str, page: object, following: tuple[str, str] | None) -> None:
        if isinstance(page, _Certificates):
            self._write_certificates(page.rows, page.found)
        elif phase == ProgressPhase.ENROLLMENTS:
            assert following is not None
            self._write_enrollments(page, following)  # type: ignore[arg-type]
        else:
            assert following is not None
            self._write_grades(page, following)  # type: ignore[arg-type]
        self._tell(phase, following is not None and following[0] == phase)

    def run_from(self, phase: str, cursor: str) -> None:
        """Read and write the sweep from ``phase`` at ``cursor`` to its end.

        The next page is fetched on a thread while this one is written (Open edX's answer time
        and ours overlap), except the first page of certificates, whose list is what the grades
        phase writes. A page fetched ahead is only kept in memory: the cursor moves when a page
        is written, so a sync that stops re-reads at most that one page.
        """
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="progress-fetch")
        try:
            fetch = self._fetch(phase, cursor)
            pending: Future[object] | None = pool.submit(fetch) if fetch else None
            while pending is not None:
                page = pending.result()
                following = self._following(phase, page)
                pending = None
                ahead = following is not None and (
                    following[0] != ProgressPhase.CERTIFICATES
                    or phase == ProgressPhase.CERTIFICATES
                )
                if ahead:
                    assert following is not None
                    fetch = self._fetch(*following)
                    pending = pool.submit(fetch) if fetch else None
                self._write(phase, page, following)
                if following is None:
                    return
                if not ahead:
                    fetch = self._fetch(*following)
                    pending = pool.submit(fetch) if fetch else None
                phase = following[0]
        finally:
            # A fetch still under way (after an error) is left to end on its own.
            pool.shutdown(wait=False, cancel_futures=True)


def sync_run(
    run: CourseRun,
    *,
    dry_run: bool = False,
    report: Report | None = None,
    sleep: Sleep = time.sleep,
) -> RunSyncResult:
    """Sweep one contract run's progress from Open edX (resuming an unfinished sweep at its
    cursor). A dry run reads the whole sweep from the start and counts what would be written,
    writing nothing, not even the cursor. Open edX's errors do not escape: the run is recorded
    as failed and the result says so."""
    result = RunSyncResult(
        run_id=run.pk, courseware_id=run.courseware_id, outcome=SyncOutcome.SYNCED, dry_run=dry_run
    )
    now = timezone.now()
    if dry_run:
        store = _DryRunStore(run)
        try:
            _Sweep(run, store, now, sleep, report).run_from(ProgressPhase.ENROLLMENTS, "")
        except OpenEdxError as exc:
            result.outcome, result.error = SyncOutcome.FAILED, _error(exc)
        result.learners, result.unmapped = store.figures()
        result.written = store.written
        return result
    sync = _claim(run, now)
    if sync is None:
        result.outcome = SyncOutcome.ALREADY_RUNNING
        return result
    assert sync.sweep_as_of is not None and sync.last_attempt_on is not None
    db_store = _Store(run, sync.last_attempt_on)
    try:
        _Sweep(run, db_store, sync.sweep_as_of, sleep, report).run_from(sync.phase, sync.cursor)
        result.learners, result.unmapped, result.written = _finish(run, db_store, sync.sweep_as_of)
    except _TakenOver:
        result.outcome = SyncOutcome.ALREADY_RUNNING
    except Exception as exc:  # one run's failure never stops the others
        if not isinstance(exc, OpenEdxError):
            log.exception("Progress sync of %s stopped", run.courseware_id)
        result.outcome, result.error = SyncOutcome.FAILED, _error(exc)
        try:
            _record_failure(run, db_store.heartbeat, result.error)
        except DatabaseError:
            log.exception("Could not record the failed progress sync of %s", run.courseware_id)
    else:
        log.info(
            "Progress of %s synced: %s learners, %s written, %s unmapped",
            run.courseware_id,
            result.learners,
            result.written,
            result.unmapped,
        )
    return result


def _error(exc: Exception) -> str:
    text = str(exc) if isinstance(exc, OpenEdxError) else one_line(exc)
    text = " ".join(text.split())
    return text if len(text) <= ERROR_LENGTH else f"{text[: ERROR_LENGTH - 3]}..."


def sync_runs(
    runs: Iterable[CourseRun],
    *,
    dry_run: bool = False,
    report: Report | None = None,
    sleep: Sleep = time.sleep,
) -> list[RunSyncResult]:
    """Sync each run in turn; a run that fails is recorded and the next one goes on."""
    return [sync_run(run, dry_run=dry_run, report=report, sleep=sleep) for run in runs]


def sync_contract(
    contract: ContractPage,
    *,
    dry_run: bool = False,
    report: Report | None = None,
    sleep: Sleep = time.sleep,
) -> list[RunSyncResult]:
    """Sync every run of the contract, live or not, by courseware id."""
    runs = selectors.contract_runs(contract.pk)
    return sync_runs(runs, dry_run=dry_run, report=report, sleep=sleep)


def sync_live_runs(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    report: Report | None = None,
    sleep: Sleep = time.sleep,
) -> list[RunSyncResult]:
    """Sync every live contract run (``selectors.progress_sync.live_runs``)."""
    runs = selectors.live_runs(now or timezone.now())
    return sync_runs(runs, dry_run=dry_run, report=report, sleep=sleep)


def sync_run_by_id(run_id: int) -> RunSyncResult | None:
    """Sync the contract run with this id (the task's service); None when it is gone or no
    longer a contract run."""
    run = selectors.contract_run(run_id)
    if run is None:
        log.warning("Run %s is not a contract run (any more); no progress to sync", run_id)
        return None
    return sync_run(run)


def queue_run_syncs(run_ids: Iterable[int]) -> list[int]:
    """Queue one ``SYNC_RUN_TASK`` per run, after the current transaction commits."""
    queued = list(run_ids)
    for run_id in queued:
        queue_after_commit(SYNC_RUN_TASK, run_id)
    return queued


def queue_contract_syncs(contract_id: int) -> list[int]:
    """Queue the sync of every run of the contract (the managers' refresh, an operator)."""
    return queue_run_syncs(selectors.contract_runs(contract_id).values_list("pk", flat=True))


def queue_live_syncs(now: datetime | None = None) -> list[int]:
    """Queue the sync of every live contract run (the nightly beat entry)."""
    now = now or timezone.now()
    return queue_run_syncs(selectors.live_runs(now).values_list("pk", flat=True))


def find_contract(contract_id: int) -> ContractPage:
    contract = selectors.contract(contract_id)
    if contract is None:
        raise ContractNotFound(f"No contract with id {contract_id}")
    return contract


def find_contract_run(courseware_id: str) -> CourseRun:
    """The contract run with this courseware id (``CourseRunNotFound``, ``NotAContractRun``)."""
    run = selectors.run_by_key(courseware_id)
    if run is None:
        raise CourseRunNotFound(f"No course run {courseware_id}")
    if run.b2b_contract_id is None:
        raise NotAContractRun(f"Run {courseware_id} is not a contract run: it has no progress")
    return run
