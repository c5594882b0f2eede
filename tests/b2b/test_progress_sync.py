"""The progress sync against the fake Open edX over HTTP: each learner state, the rows written
only when a value changes, the cursor a failed or killed sync resumes at, a constant number of
queries per page, Open edX's faults, one run failing while the next is synced, the dry run."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from b2b.enums import ProgressPhase, ProgressSyncState
from b2b.models import LearnerProgress, RunProgressSync
from b2b.services.progress.sync import (
    SyncOutcome,
    retry_wait,
    sync_contract,
    sync_run,
)
from courses.exceptions import OpenEdxThrottled, OpenEdxTransientError
from tests.b2b.progress_sync_support import Sleeps, contract_run, map_learner, rows
from tests.support import factories as f
from tests.support.openedx_server import (
    CERTIFICATE,
    COURSE_GRADES,
    ENROLLMENT_LIST,
    Failure,
    Learner,
)
from tests.support.races import race

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(site_tree, openedx_server):
    return contract_run()


@pytest.fixture
def sleeps():
    return Sleeps()


def sync(run, sleeps, **options):
    return sync_run(run, sleep=sleeps, **options)


def test_each_learner_state_is_read_from_open_edx(run, openedx_server, sleeps):
    key = run.courseware_id
    openedx_server.load_learners(
        key,
        [
            Learner("new", mode="verified", created="2026-03-01T09:00:00Z"),
            Learner("started", percent=0.42, letter_grade=None),
            Learner("passed", percent=0.81, passed=True, letter_grade="Pass"),
            Learner("certified", percent=0.95, passed=True, letter_grade="Pass",
                    cert_status="downloadable"),
            Learner("left", is_active=False, percent=0.3),
            Learner("stranger", percent=0.1),
        ],
    )  # fmt: skip
    users = {name: map_learner(run, name) for name in ("new", "started", "passed", "certified")}
    users["left"] = map_learner(run, "left")

    result = sync(run, sleeps)

    assert (result.outcome, result.learners, result.unmapped) == (SyncOutcome.SYNCED, 6, 1)
    got = rows(run)
    assert {name: row.user_id for name, row in got.items()} == {
        **{name: user.pk for name, user in users.items()},
        "stranger": None,  # not guessed from the e-mail address
    }
    new, started, passed = got["new"], got["started"], got["passed"]
    assert (new.mode, new.active, new.enrolled_on) == (
        "verified",
        True,
        datetime(2026, 3, 1, 9, tzinfo=UTC),
    )
    assert (new.grade_percent, new.passed, new.is_started) == (Decimal("0.0000"), False, False)
    assert (started.grade_percent, started.is_started, started.is_completed) == (
        Decimal("0.4200"),
        True,
        False,
    )
    assert (passed.passed, passed.letter_grade, passed.cert_status) == (True, "Pass", "")
    assert passed.first_passed_on is not None
    certified = got["certified"]
    assert (certified.cert_status, certified.is_certified) == ("downloadable", True)
    assert certified.cert_url == f"{openedx_server.lms_url}certificates/certified-{key[10:]}"
    assert certified.cert_created_on == datetime(2026, 5, 1, 12, tzinfo=UTC)
    # An unenrolled learner: inactive, and absent from the grades (its last grade stays).
    assert (got["left"].active, got["left"].grade_percent) == (False, None)
    assert got["stranger"].edx_email == "stranger@example.com"
    # Certificates are asked for the learners who passed only.
    assert sorted(r.path.split("/")[5] for r in openedx_server.requests_to(CERTIFICATE)) == [
        "certified",
        "passed",
    ]
    state = RunProgressSync.objects.get(pk=run.pk)
    assert (state.state, state.phase, state.cursor, state.failures) == (
        ProgressSyncState.IDLE,
        ProgressPhase.ENROLLMENTS,
        "",
        0,
    )
    assert (state.learners, state.unmapped, state.rows_written) == (6, 1, result.written)
    assert state.last_success_on is not None
    assert sleeps.waits == []


def test_a_certificate_kept_after_the_grade_drops_is_certified_not_passed(
    run, openedx_server, sleeps
):
    key = run.courseware_id
    openedx_server.load_learners(
        key, [Learner("ada", percent=0.9, passed=True, cert_status="downloadable")]
    )
    sync(run, sleeps)
    openedx_server.set_grade(key, "ada", percent=0.5, passed=False)

    assert sync(run, sleeps).written == 1
    ada = rows(run)["ada"]
    assert (ada.passed, ada.is_certified, ada.is_completed) == (False, True, True)
    assert ada.first_passed_on is not None  # kept: it was seen passing once

    openedx_server.set_certificate(key, "ada", status="unavailable")  # revoked
    sync(run, sleeps)
    assert (rows(run)["ada"].cert_status, rows(run)["ada"].is_certified) == ("unavailable", False)
    openedx_server.remove_certificate(key, "ada")
    sync(run, sleeps)
    assert (rows(run)["ada"].cert_status, rows(run)["ada"].cert_url) == ("", "")


def test_only_rows_whose_values_changed_are_written(run, openedx_server, sleeps):
    key = run.courseware_id
    openedx_server.load_learners(key, [Learner(f"l{n}", percent=0.2) for n in range(5)])
    first = sync(run, sleeps)
    assert first.written == 10  # 5 created by the enrollments, 5 changed by the grades
    before = rows(run)

    second = sync(run, sleeps)
    assert second.written == 0
    after = rows(run)
    assert {n: r.changed_on for n, r in after.items()} == {
        n: r.changed_on for n, r in before.items()
    }
    sweep = RunProgressSync.objects.get(pk=run.pk).sweep_as_of
    assert {r.as_of for r in after.values()} == {sweep}  # every row says how recent it is
    assert sweep > before["l0"].as_of

    openedx_server.set_grade(key, "l3", percent=0.6)
    third = sync(run, sleeps)
    assert third.written == 1
    changed = {n for n, r in rows(run).items() if r.changed_on != after[n].changed_on}
    assert changed == {"l3"}
    assert rows(run)["l3"].grade_percent == Decimal("0.6000")


def test_a_sync_that_failed_half_way_resumes_at_its_cursor(run, openedx_server, sleeps, settings):
    settings.B2B_PROGRESS_SYNC_ATTEMPTS = 2
    openedx_server.enrollment_page_size = 2
    key = run.courseware_id
    openedx_server.load_learners(key, [Learner(f"l{n}") for n in range(5)])  # 3 pages
    openedx_server.fail(ENROLLMENT_LIST, Failure(), Failure(500, "oops"), Failure(500, "oops"))

    failed = sync(run, sleeps)

    assert failed.outcome is SyncOutcome.FAILED
    assert "answered 500" in failed.error
    state = RunProgressSync.objects.get(pk=run.pk)
    assert (state.state, state.phase, state.failures) == (
        ProgressSyncState.FAILED,
        ProgressPhase.ENROLLMENTS,
        1,
    )
    assert state.last_error == failed.error
    assert sorted(rows(run)) == ["l0", "l1"]  # the first page was written with its cursor
    cursor = state.cursor
    assert cursor
    seen = len(openedx_server.requests_to(ENROLLMENT_LIST))

    resumed = sync(run, sleeps)

    assert (resumed.outcome, resumed.learners) == (SyncOutcome.SYNCED, 5)
    again = [r.path for r in openedx_server.requests_to(ENROLLMENT_LIST)[seen:]]
    assert len(again) == 2
    assert f"?{cursor}" in again[0]  # not the first page again
    state.refresh_from_db()
    assert (state.state, state.failures, state.last_error) == (ProgressSyncState.IDLE, 0, "")
    assert state.rows_written == resumed.written == 10  # the whole sweep's, first page included


def test_a_killed_sync_is_taken_over_only_once_its_claim_is_stale(run, openedx_server, sleeps):
    openedx_server.enrollment_page_size = 1
    key = run.courseware_id
    openedx_server.load_learners(key, [Learner("ada"), Learner("bob")])
    # A worker claimed the run, wrote the first page and died.
    sweep = timezone.now() - timedelta(hours=1)
    RunProgressSync.objects.create(
        run=run,
        state=ProgressSyncState.RUNNING,
        phase=ProgressPhase.ENROLLMENTS,
        # the query of the fake's next link at offset 1
        cursor=urlencode({"cursor": "bz0x", "course_id": run.courseware_id}),
        sweep_as_of=sweep,
        last_attempt_on=timezone.now() - timedelta(minutes=5),
    )

    assert sync(run, sleeps).outcome is SyncOutcome.ALREADY_RUNNING
    assert openedx_server.requests_to(ENROLLMENT_LIST) == []

    RunProgressSync.objects.filter(pk=run.pk).update(
        last_attempt_on=timezone.now() - timedelta(minutes=31)
    )
    result = sync(run, sleeps)
    assert result.outcome is SyncOutcome.SYNCED
    assert [
        parse_qs(urlsplit(r.path).query)["cursor"]
        for r in openedx_server.requests_to(ENROLLMENT_LIST)
    ] == [["bz0x"]]
    got = rows(run)
    assert got["bob"].mode == "audit"
    assert got["ada"].mode == ""  # the dead worker's page, never written: ada came with grades
    assert got["bob"].as_of == sweep  # the sweep it resumed


def queries_of_one_sync(run, sleeps) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert sync(run, sleeps).outcome is SyncOutcome.SYNCED
    return len(queries)


# One enrollment page: lock the claim, read the page's rows, read its users, insert the new
# rows, move the cursor, and the page's savepoint and its release (an update of changed rows
# adds one, whatever their number).
ENROLLMENT_PAGE_QUERIES = 7


def learners_of(run, n, **values):
    return [Learner(f"{run.run_tag}{i}", **values) for i in range(n)]


def test_a_page_takes_the_same_queries_whatever_its_size(site_tree, openedx_server, sleeps):
    openedx_server.enrollment_page_size = 6
    small, large = contract_run(tag="S"), contract_run(tag="L")
    for run, n in ((small, 2), (large, 6)):
        openedx_server.load_learners(run.courseware_id, learners_of(run, n, percent=0.1))
        for learner in learners_of(run, n):
            map_learner(run, learner.username)

    assert queries_of_one_sync(small, sleeps) == queries_of_one_sync(large, sleeps)
    # Again with every row changed: one bulk update per page, whatever the page's size.
    for run, n in ((small, 2), (large, 6)):
        openedx_server.load_learners(run.courseware_id, learners_of(run, n, percent=0.3))
    assert queries_of_one_sync(small, sleeps) == queries_of_one_sync(large, sleeps)


def test_three_pages_take_two_pages_more_queries_than_one(site_tree, openedx_server, sleeps):
    openedx_server.enrollment_page_size = 3
    one, three = contract_run(tag="ONE"), contract_run(tag="THREE")
    openedx_server.load_learners(one.courseware_id, learners_of(one, 3))
    openedx_server.load_learners(three.courseware_id, learners_of(three, 9))

    difference = queries_of_one_sync(three, sleeps) - queries_of_one_sync(one, sleeps)

    assert difference == 2 * ENROLLMENT_PAGE_QUERIES
    assert len(openedx_server.requests_to(ENROLLMENT_LIST)) == 4


def test_429_waits_for_its_retry_after_capped(run, openedx_server, sleeps, settings):
    settings.B2B_PROGRESS_RETRY_MAX_SECONDS = 60
    openedx_server.load_learners(run.courseware_id, [Learner("ada", percent=0.5)])
    openedx_server.fail(
        COURSE_GRADES,
        Failure(429, {"detail": "Request was throttled."}, headers={"Retry-After": "7"}),
        Failure(429, {"detail": "Request was throttled."}, headers={"Retry-After": "600"}),
    )
    assert sync(run, sleeps).outcome is SyncOutcome.SYNCED
    assert sleeps.waits == [7.0, 60.0]
    assert rows(run)["ada"].grade_percent == Decimal("0.5000")


def test_500_then_success_backs_off_and_a_reset_connection_is_retried(run, openedx_server, sleeps):
    openedx_server.load_learners(
        run.courseware_id, [Learner("ada", percent=0.9, passed=True, cert_status="downloadable")]
    )
    openedx_server.fail(ENROLLMENT_LIST, Failure(500, "<h1>Server Error</h1>"), Failure(502, ""))
    openedx_server.fail(CERTIFICATE, Failure(reset=True))
    assert sync(run, sleeps).outcome is SyncOutcome.SYNCED
    assert sleeps.waits == [1.0, 2.0, 1.0]
    assert rows(run)["ada"].is_certified


def test_a_slow_answer_is_a_timeout_retried(run, openedx_server, sleeps, settings):
    settings.OPENEDX_REQUEST_TIMEOUT = 0.3
    openedx_server.load_learners(run.courseware_id, [Learner("ada")])
    openedx_server.fail(ENROLLMENT_LIST, Failure(delay=1.0))
    assert sync(run, sleeps).outcome is SyncOutcome.SYNCED
    assert sleeps.waits == [1.0]


def test_the_backoff_doubles_up_to_the_cap(settings):
    settings.B2B_PROGRESS_RETRY_MAX_SECONDS = 5
    error = OpenEdxTransientError("down")
    assert [retry_wait(error, attempt) for attempt in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert retry_wait(OpenEdxThrottled("slow", wait_seconds=None), 2) == 2.0


def test_a_run_that_keeps_failing_is_recorded_and_the_next_run_is_synced(
    site_tree, openedx_server, sleeps, settings
):
    settings.B2B_PROGRESS_SYNC_ATTEMPTS = 3
    contract = f.ContractPageFactory()
    failing, healthy = contract_run(contract, tag="A"), contract_run(contract, tag="B")
    for run in (failing, healthy):
        openedx_server.load_learners(run.courseware_id, [Learner(f"{run.run_tag}1")])
    openedx_server.fail(COURSE_GRADES, *[Failure(503, "Service Unavailable")] * 3)

    results = sync_contract(contract, sleep=sleeps)

    assert [(r.courseware_id, r.outcome) for r in results] == [
        (failing.courseware_id, SyncOutcome.FAILED),
        (healthy.courseware_id, SyncOutcome.SYNCED),
    ]
    assert sleeps.waits == [1.0, 2.0]
    state = RunProgressSync.objects.get(pk=failing.pk)
    assert (state.state, state.phase, state.failures) == (
        ProgressSyncState.FAILED,
        ProgressPhase.GRADES,
        1,
    )
    assert state.last_error.startswith(
        f"Reading the grades of {failing.courseware_id}: Open edX answered 503"
    )
    assert "\n" not in state.last_error
    assert RunProgressSync.objects.get(pk=healthy.pk).state == ProgressSyncState.IDLE
    assert rows(healthy)["B1"].as_of is not None

    openedx_server.fail(COURSE_GRADES, *[Failure(503, "Service Unavailable")] * 3)
    sync_run(failing, sleep=sleeps)
    assert RunProgressSync.objects.get(pk=failing.pk).failures == 2


def test_the_dry_run_counts_and_writes_nothing(run, openedx_server, sleeps):
    key = run.courseware_id
    openedx_server.load_learners(
        key,
        [Learner("ada", percent=0.9, passed=True, cert_status="downloadable"), Learner("bob")],
    )
    map_learner(run, "ada")

    dry = sync(run, sleeps, dry_run=True)

    assert (dry.outcome, dry.dry_run, dry.learners, dry.unmapped, dry.written) == (
        SyncOutcome.SYNCED,
        True,
        2,
        1,
        5,  # 2 created, 2 graded, 1 certificate
    )
    assert LearnerProgress.objects.count() == 0
    assert not RunProgressSync.objects.filter(pk=run.pk).exists()
    assert len(openedx_server.requests_to(CERTIFICATE)) == 1

    sync(run, sleeps)
    openedx_server.set_grade(key, "bob", percent=0.3)
    state = RunProgressSync.objects.get(pk=run.pk)
    before = (state.last_success_on, state.rows_written, state.cursor)
    assert sync(run, sleeps, dry_run=True).written == 1
    state.refresh_from_db()
    assert (state.last_success_on, state.rows_written, state.cursor) == before
    assert rows(run)["bob"].grade_percent == Decimal("0.0000")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_syncs_of_one_run_at_once_one_sweeps_and_the_other_leaves_it(
    site_tree, openedx_server, sleeps
):
    run = contract_run()
    openedx_server.load_learners(
        run.courseware_id,
        [Learner(username=f"racer{i}", percent=0.5, passed=i % 2 == 0) for i in range(120)],
    )
    for i in range(0, 120, 7):
        map_learner(run, f"racer{i}")
    # every answer a little slow, so that the two syncs overlap whichever starts first
    openedx_server.fail(ENROLLMENT_LIST, *[Failure(delay=0.2) for _ in range(4)])

    outcomes = race([lambda: sync_run(run, sleep=sleeps), lambda: sync_run(run, sleep=sleeps)])

    assert sorted(o.outcome for o in outcomes) == sorted(
        [SyncOutcome.SYNCED, SyncOutcome.ALREADY_RUNNING]
    ), outcomes
    assert LearnerProgress.objects.filter(run=run).count() == 120
    sync = RunProgressSync.objects.get(run=run)
    assert (sync.state, sync.failures, sync.learners) == ("idle", 0, 120)
    # the sweep that ran read each enrollment page once: the other read nothing
    assert len(openedx_server.requests_to(ENROLLMENT_LIST)) == 2
