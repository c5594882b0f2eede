"""Learner progress benchmark (run with `make bench-progress`; needs PostgreSQL).

Work: one contract of 10,000 learners over 5 runs (2,000 a run), in Open edX's protocol server
(tests/support/openedx_server.py, in its own process so that it has its own core), and one small
contract of 200 learners in one run, to compare memory and queries against run size. The learners
are a mix: 30% not started, 40% started, 20% passed, 10% passed with a certificate.

It prints:

- the floor: the time to only fetch the pages a sweep reads (the enrollments by cursor, the
  grades 50 a page, the certificates of the learners who passed, as many at once as the sync
  reads them), through the same client code, with no database work; measured before and after
  the sync, the better of the two kept;
- the full first sync of every run (``sync_run``), its ratio to the floor (goal within 1.5x),
  its queries per Open edX page (constant: the same for a 200- and a 2,000-learner run) and the
  peak Python memory of one run's sync (flat: the same for both sizes);
- a second sync after 1% of the learners changed grade: its time and the rows it wrote;
- the manager's progress page of the 10,000-learner contract (median of 5, and its queries;
  goal under 300 ms) and its CSV download (goal under 2 s).

The benchmark drops and recreates its own database (BENCH_PROGRESS_DATABASE_URL).
"""

import argparse
import cProfile
import multiprocessing
import os
import platform
import pstats
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    QueryCounter,
    bench_contract,
    bench_run,
    prepare_environment,
    recreate_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench_progress"
USERNAME = "learner{:05d}"


def _learner_state(n: int) -> dict:
    """The state of learner ``n`` in the protocol server (by n % 10)."""
    kind = n % 10
    if kind < 3:
        return {}
    if kind < 7:
        return {"percent": 0.1 * (kind - 1), "letter_grade": None}
    state = {"percent": 0.85, "passed": True, "letter_grade": "Pass"}
    if kind == 9:
        state["cert_status"] = "downloadable"
    return state


def _serve(runs: dict[str, range], pipe) -> None:
    """The protocol server's process: load the learners, send the URLs, then obey the pipe."""
    sys.path.insert(0, str(ROOT))
    from tests.support.openedx_server import FakeOpenEdx, Learner

    fake = FakeOpenEdx().start()
    for key, numbers in runs.items():
        fake.load_learners(
            key,
            (
                Learner(
                    username=USERNAME.format(n),
                    email=f"{USERNAME.format(n)}@bench.example",
                    mode="verified",
                    **_learner_state(n),
                )
                for n in numbers
            ),
        )
    pipe.send((fake.lms_url, fake.studio_url, fake.client_id, fake.client_secret))
    while True:
        command, argument = pipe.recv()
        if command == "requests":
            pipe.send(len(fake.requests))
        elif command == "regrade":  # argument: (run key, usernames)
            key, usernames = argument
            for name in usernames:
                fake.set_grade(key, name, percent=0.95, passed=True, letter_grade="Pass")
            pipe.send(len(usernames))
        elif command == "stop":
            fake.stop()
            pipe.send(None)
            return


def _build(runs_numbers: dict[str, range], contracts: dict[str, object]):
    """Our side: the users, their memberships and enrollments (with the Open edX username the
    enrollment push recorded), and a manager of the big contract's organization."""
    from b2b.models import ContractMembership, OrganizationManager
    from courses.models import CourseRun, CourseRunEnrollment
    from users.models import User

    users = User.objects.bulk_create(
        [
            User(
                email=f"{USERNAME.format(n)}@bench.example",
                name=f"Learner {n}",
                password="!",
            )
            for numbers in runs_numbers.values()
            for n in numbers
        ],
        batch_size=5000,
    )
    by_name = {u.email.split("@")[0]: u for u in users}
    memberships, enrollments = [], []
    for key, numbers in runs_numbers.items():
        run = CourseRun.objects.get(courseware_id=key)
        for n in numbers:
            user = by_name[USERNAME.format(n)]
            memberships.append(
                ContractMembership(user=user, contract_id=run.b2b_contract_id, source="code")
            )
            enrollments.append(
                CourseRunEnrollment(
                    user=user,
                    run=run,
                    mode="verified",
                    edx_sync_state="synced",
                    edx_username=user.email.split("@")[0],
                )
            )
    ContractMembership.objects.bulk_create(memberships, batch_size=5000, ignore_conflicts=True)
    CourseRunEnrollment.objects.bulk_create(enrollments, batch_size=5000)
    manager = User.objects.create_user("manager@bench.example", "bench-password-123")
    big = contracts["big"]
    OrganizationManager.objects.create(user=manager, organization=big.get_parent().specific)
    return manager


def _fetch_floor(keys: list[str]) -> tuple[float, int]:
    """Fetch every page a sweep of these runs reads, and nothing else; (seconds, pages)."""
    from b2b.services.progress.sync import CERTIFICATE_PAGE, certificates_of
    from courses import openedx

    pages = 0
    started = time.perf_counter()
    for key in keys:
        cursor = ""
        while True:
            page = openedx.enrollments_page(key, cursor=cursor)
            pages += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        cursor, candidates = "", []
        while True:
            grades = openedx.course_grades_page(key, cursor=cursor)
            pages += 1
            candidates += [g.username for g in grades.items if g.passed]
            if grades.next_cursor is None:
                break
            cursor = grades.next_cursor
        # the same requests, as many at once as the sync makes them
        for start in range(0, len(candidates), CERTIFICATE_PAGE):
            certificates_of(candidates[start : start + CERTIFICATE_PAGE], key, time.sleep)
        pages += len(candidates)
    return time.perf_counter() - started, pages


def _sync(
    runs, pipe, label: str, *, memory: bool = False
) -> tuple[float, int, int, list[tuple[str, float, float]]]:
    """Sync each run; (seconds, queries, rows written, per run (key, queries per Open edX
    request, peak MiB)). ``memory`` traces allocations, which slows Python down: the timed
    syncs run without it."""
    from django.db import connection

    from b2b.services.progress.sync import sync_run

    total_seconds, total_queries, written, per_run = 0.0, 0, 0, []
    for run in runs:
        pipe.send(("requests", None))
        before = pipe.recv()
        counter = QueryCounter()
        if memory:
            tracemalloc.start()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            result = sync_run(run)
            seconds = time.perf_counter() - started
        peak = 0.0
        if memory:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        pipe.send(("requests", None))
        pages = max(1, pipe.recv() - before)
        if result.failed:
            raise SystemExit(f"{label}: the sync of {run.courseware_id} failed: {result.error}")
        total_seconds += seconds
        total_queries += counter.count
        written += result.written
        per_run.append((run.courseware_id, counter.count / pages, peak))
    return total_seconds, total_queries, written, per_run


def _timed_get(client, url: str, *, stream: bool = False) -> tuple[float, int, int]:
    """(seconds, queries, bytes) of one GET, the streamed body read to its end."""
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        response = client.get(url)
        body = b"".join(response.streaming_content) if stream else response.content
        seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    return seconds, counter.count, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--small", type=int, default=200, help="learners of the small run")
    parser.add_argument("--changed", type=float, default=0.01, help="share changed for sync 2")
    parser.add_argument("--profile", action="store_true", help="print where the syncs' time goes")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_PROGRESS_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args()

    per_run = args.learners // args.runs
    big_keys = [f"course-v1:BENCH+P{i}+C1" for i in range(args.runs)]
    runs_numbers = {key: range(i * per_run, (i + 1) * per_run) for i, key in enumerate(big_keys)}
    small_key = "course-v1:BENCH+SMALL+C2"
    runs_numbers[small_key] = range(args.learners, args.learners + args.small)

    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe()
    server = context.Process(target=_serve, args=(runs_numbers, child_end), daemon=True)
    server.start()
    lms_url, studio_url, client_id, client_secret = parent_end.recv()

    prepare_environment(
        args.database_url,
        OPENEDX_API_BASE_URL=lms_url,
        OPENEDX_STUDIO_API_BASE_URL=studio_url,
        OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID=client_id,
        OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET=client_secret,
        ALLOWED_HOSTS="testserver,localhost",
    )
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from courses.models import CourseRun

    call_command("migrate", verbosity=0)
    call_command("configure_wagtail", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"Work: {args.learners} learners over {args.runs} runs ({per_run} a run), and a run of "
        f"{args.small}; 30% not started, 40% started, 20% passed, 10% certified\n"
    )
    big = bench_contract("Progress", cap=None)
    small = bench_contract("Progress small", cap=None)
    for i, key in enumerate(big_keys):
        course_id = key.rsplit("+", 1)[0]
        run, _ = bench_run(big, title=f"Course {i}", readable_id=course_id)
        CourseRun.objects.filter(pk=run.pk).update(courseware_id=key)
    run, _ = bench_run(small, title="Small course", readable_id=small_key.rsplit("+", 1)[0])
    CourseRun.objects.filter(pk=run.pk).update(courseware_id=small_key)
    manager = _build(runs_numbers, {"big": big, "small": small})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    big_runs = list(CourseRun.objects.filter(courseware_id__in=big_keys).order_by("courseware_id"))
    small_run = CourseRun.objects.get(courseware_id=small_key)

    print("Sync")
    floor_before, pages = _fetch_floor(big_keys)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    seconds, queries, written, _ = _sync(big_runs, parent_end, "first sync")
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    floor_after, _ = _fetch_floor(big_keys)
    floor = min(floor_before, floor_after)
    # Memory, traced apart: the small run's first sync, and a big run's first sync again.
    _, _, _, small_figures = _sync([small_run], parent_end, "small run", memory=True)
    from b2b.models import LearnerProgress, RunProgressSync

    LearnerProgress.objects.filter(run=big_runs[0]).delete()
    RunProgressSync.objects.filter(run=big_runs[0]).delete()
    _, _, _, big_figures = _sync(big_runs[:1], parent_end, "memory", memory=True)
    print(f"  {'fetch only (the floor, best of 2)':<44} {floor:8.3f} s {pages:7d} pages")
    print(
        f"  {'first sync of the 5 runs':<44} {seconds:8.3f} s {queries:7d} queries "
        f"{written:7d} rows written"
    )
    print(f"  {'  ratio to the floor (goal <= 1.5)':<44} {seconds / floor:8.2f}")
    for key, per_request, peak in big_figures + small_figures:
        learners = len(runs_numbers[key])
        print(
            f"  {f'  first sync of a run of {learners} learners':<44} {per_request:8.2f} "
            f"queries per Open edX request {peak:6.1f} MiB peak"
        )

    changed = int(args.learners * args.changed)
    for key in big_keys:
        share = changed // args.runs
        names = [USERNAME.format(n) for n in runs_numbers[key] if n % 10 < 7][:share]
        parent_end.send(("regrade", (key, names)))
        parent_end.recv()
    if profiler:
        profiler = cProfile.Profile()
        profiler.enable()
    seconds2, queries2, written2, _ = _sync(big_runs, parent_end, "second sync")
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    print(
        f"  {f'second sync, {args.changed:.0%} changed':<44} {seconds2:8.3f} s {queries2:7d} "
        f"queries {written2:7d} rows written"
    )

    print("\nThe manager's pages of the 10,000-learner contract")
    client = Client()
    client.force_login(manager)
    page_url = reverse("manage:progress", args=[big.pk])
    _timed_get(client, page_url)  # warm
    for label, url in (
        ("progress page (first page of the table)", page_url),
        ("progress page, needs attention", f"{page_url}?show=needs-attention"),
        ("progress page, sorted by grade", f"{page_url}?sort=-grade"),
    ):
        timings = [_timed_get(client, url) for _ in range(5)]
        median = statistics.median(t[0] for t in timings)
        print(f"  {label:<44} {median * 1000:8.1f} ms {timings[0][1]:7d} queries (median of 5)")
    csv_seconds, csv_queries, csv_bytes = _timed_get(
        client, reverse("manage:progress-csv", args=[big.pk]), stream=True
    )
    print(
        f"  {'progress.csv':<44} {csv_seconds:8.3f} s {csv_queries:7d} queries "
        f"{csv_bytes / 2**20:7.1f} MiB"
    )
    parent_end.send(("stop", None))
    parent_end.recv()
    server.join(timeout=5)


if __name__ == "__main__":
    main()
