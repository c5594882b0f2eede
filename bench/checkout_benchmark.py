"""A burst of learners checking out at once (run with `make bench-checkout`).

The site runs as in production: gunicorn on PostgreSQL (its own database, dropped, recreated and
migrated), a real Celery worker on Redis pushing the enrollments to an Open edX on loopback (the
tests' fake, tests/support/openedx_server.py), and the code throttle's counts in Redis. For each
level of concurrency (10, 50 and 100 learners at once by default) the benchmark creates a
contract whose cap is the number of learners, with one course and its one-time codes, and as many
signed-in learners (sessions made for the bench), each holding a code. A few more learners
("contenders", a tenth of the level) hold a code somebody else holds too: exactly one of each
pair may get in.

Every learner walks the real pages as a browser does, from a bounded pool of threads on
loopback: the product URL (cart add), the cart page (its CSRF token), the code through the
cart's form, the cart again, checkout, and the dashboard it redirects to. The benchmark prints
checkouts per second, p50/p95/p99 latency per step, the errors (anything but the expected
pages: must be 0), and checks the database afterwards: no code redeemed twice, members within
the cap, one enrollment per successful checkout, all pushed to Open edX by the worker. In the
same run it measures the requests per second of /healthz on the same server as the ceiling.
"""

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_contract, bench_run, prepare_environment, recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench_checkout"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
STEPS = ("add", "cart", "apply", "cart-with-code", "checkout", "dashboard")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# Targets on the reference machine (issue 13).
P95_TARGET_MS, P95_TARGET_LEVEL, CEILING_SHARE_TARGET = 500, 50, 0.25


@dataclass
class Learner:
    email: str
    session_key: str
    code: str
    shared: bool  # another learner holds the same code


@dataclass
class Outcome:
    latencies: dict[str, float] = field(default_factory=dict)  # step -> seconds
    checked_out: bool = False
    # A shared code another learner used first: refused when applied, or sent back to the cart
    # at checkout.
    refused: bool = False
    error: str | None = None


# Set-up, in this process (Django on the bench database, tasks run eagerly here).


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def _contract(level: int | str, cap: int, fake_edx):
    """A free non-SSO contract capped at ``cap`` with one course; its codes reconciled."""
    from b2b.services.codes.reconcile import reconcile_contract_codes
    from ecommerce.models import Discount

    name = f"Burst {level}"
    contract = bench_contract(name, cap=cap)
    run, product = bench_run(
        contract,
        title=name,
        readable_id=f"course-v1:BENCH+B{level}",
        run_title=f"{name} course",
    )
    fake_edx.add_lms_course(run.courseware_id, name=run.title)
    reconcile_contract_codes(contract_id=contract.pk, force=True)
    codes = list(
        Discount.objects.filter(b2b_contract=contract, is_active=True)
        .order_by("pk")
        .values_list("discount_code", flat=True)
    )
    return contract, product, codes


def _learners(level: int | str, codes: list[str], contenders: int, fake_edx) -> list[Learner]:
    """One signed-in learner per code, then ``contenders`` sharing the first codes."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from users.models import User

    wanted = [*codes, *codes[:contenders]]
    users = User.objects.bulk_create(
        User(email=f"burst{level}-{index}@example.com", name=f"Learner {index}")
        for index in range(len(wanted))
    )
    learners = []
    for index, (user, code) in enumerate(zip(users, wanted, strict=True)):
        user.set_unusable_password()
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        fake_edx.add_user(user.email)
        shared = index < contenders or index >= len(codes)
        learners.append(Learner(user.email, session.session_key, code, shared))
    User.objects.bulk_update(users, ["password"])
    return learners


# The load: one thread per concurrent learner, each walking the pages.


def _timed(outcome: Outcome, step: str, call):
    start = time.perf_counter()
    response = call()
    outcome.latencies[step] = time.perf_counter() - start
    return response


def _expect(response, status: int, location: str | None = None) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code}")
    if location is not None and response.headers.get("Location") != location:
        raise RuntimeError(f"{response.url} went to {response.headers.get('Location')}")


def _token(response) -> str:
    found = CSRF.search(response.text)
    if found is None:
        raise RuntimeError(f"{response.url}: no form with a CSRF token")
    return found.group(1)


def _walk(base: str, product_id: int, learner: Learner) -> Outcome:
    outcome = Outcome()
    web = requests.Session()
    web.cookies.set("sessionid", learner.session_key)
    get = {"allow_redirects": False, "timeout": 60}
    try:
        add = _timed(
            outcome, "add", lambda: web.get(f"{base}/cart/add/?product_id={product_id}", **get)
        )
        _expect(add, 302, "/cart/")
        cart = _timed(outcome, "cart", lambda: web.get(f"{base}/cart/", **get))
        _expect(cart, 200)
        form = {"csrfmiddlewaretoken": _token(cart), "code": learner.code}
        apply = _timed(outcome, "apply", lambda: web.post(f"{base}/cart/code/", form, **get))
        if learner.shared and apply.status_code == 200:  # the other holder already used it
            outcome.refused = True
            return outcome
        _expect(apply, 302, "/cart/")
        cart = _timed(outcome, "cart-with-code", lambda: web.get(f"{base}/cart/", **get))
        _expect(cart, 200)
        form = {"csrfmiddlewaretoken": _token(cart)}
        done = _timed(outcome, "checkout", lambda: web.post(f"{base}/cart/checkout/", form, **get))
        if learner.shared and done.headers.get("Location") == "/cart/":
            outcome.refused = True
            return outcome
        _expect(done, 302, "/dashboard/")
        page = _timed(outcome, "dashboard", lambda: web.get(f"{base}/dashboard/", **get))
        _expect(page, 200)
        outcome.checked_out = True
    except (requests.RequestException, RuntimeError) as exc:
        outcome.error = str(exc).splitlines()[0][:200]
    finally:
        web.close()
    return outcome


def _ceiling(base: str, concurrency: int, total: int) -> float:
    """Requests per second of /healthz with ``concurrency`` clients sending ``total`` in all."""

    def client(count: int) -> int:
        with requests.Session() as web:
            for _ in range(count):
                web.get(f"{base}/healthz", timeout=60).raise_for_status()
        return count

    shares = [total // concurrency + (i < total % concurrency) for i in range(concurrency)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        sent = sum(pool.map(client, shares))
    return sent / (time.perf_counter() - start)


def _percentile(values: list[float], share: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


# Checks and report.


def _verify(contract, learners: list[Learner], outcomes: list[Outcome]) -> list[str]:
    """What the database says after the level; an empty list when everything holds."""
    from django.db.models import Count

    from b2b.models import ContractMembership
    from courses.enums import EdxSyncState
    from courses.models import CourseRunEnrollment
    from ecommerce.models import DiscountRedemption

    problems = []
    redeemed = DiscountRedemption.objects.filter(discount__b2b_contract=contract)
    twice = redeemed.values("discount_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    members = ContractMembership.objects.filter(contract=contract).count()
    checked_out = sum(o.checked_out for o in outcomes)
    if twice:
        problems.append(f"{twice} codes redeemed more than once")
    if members > contract.max_learners:
        problems.append(f"{members} members over a cap of {contract.max_learners}")
    if not members == redeemed.count() == checked_out:
        problems.append(
            f"{members} members, {redeemed.count()} redemptions, {checked_out} checkouts"
        )
    if checked_out + sum(o.refused for o in outcomes) != len(learners) - sum(
        bool(o.error) for o in outcomes
    ):
        problems.append("a learner neither checked out nor was refused")
    enrollments = CourseRunEnrollment.objects.filter(run__b2b_contract=contract)
    if enrollments.count() != checked_out:
        problems.append(f"{enrollments.count()} enrollments for {checked_out} checkouts")
    unsynced = enrollments.exclude(edx_sync_state=EdxSyncState.SYNCED).count()
    if unsynced:
        problems.append(f"{unsynced} enrollments not pushed to Open edX")
    return problems


def _wait_for_pushes(contract, timeout: float) -> float:
    """Seconds until the worker has tried to push every enrollment of the contract to Open
    edX (``_verify`` reports those that failed)."""
    from courses.enums import EdxSyncState
    from courses.models import CourseRunEnrollment

    start = time.perf_counter()
    pending = CourseRunEnrollment.objects.filter(
        run__b2b_contract=contract, edx_sync_state=EdxSyncState.PENDING
    )
    while pending.exists():
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"{pending.count()} enrollments still not pushed after {timeout} s")
        time.sleep(0.2)
    return time.perf_counter() - start


@dataclass
class LevelResult:
    level: int
    learners: int
    wall: float
    outcomes: list[Outcome]
    ceiling_rps: float
    push_seconds: float
    problems: list[str]

    @property
    def checkouts(self) -> int:
        return sum(o.checked_out for o in self.outcomes)

    @property
    def errors(self) -> list[str]:
        return [o.error for o in self.outcomes if o.error]

    @property
    def requests(self) -> int:
        return sum(len(o.latencies) for o in self.outcomes)

    @property
    def path_rps(self) -> float:
        return self.requests / self.wall

    def step_ms(self, step: str) -> list[float]:
        return [o.latencies[step] * 1000 for o in self.outcomes if step in o.latencies]


def _report(result: LevelResult) -> None:
    print(
        f"\n{result.level} learners at once "
        f"({result.learners} learners, {result.requests} requests)"
    )
    print(f"  {'step':<16}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for step in STEPS:
        values = result.step_ms(step)
        if values:
            p50, p95, p99 = (_percentile(values, share) for share in (0.50, 0.95, 0.99))
            print(f"  {step:<16}{len(values):>6}{p50:>10.0f}{p95:>10.0f}{p99:>10.0f}")
    share = result.path_rps / result.ceiling_rps
    refused = sum(o.refused for o in result.outcomes)
    print(
        f"  checkouts          {result.checkouts} in {result.wall:.1f} s = "
        f"{result.checkouts / result.wall:.1f} per second"
    )
    print(f"  refused (shared code taken first, expected) {refused}")
    print(
        f"  errors             {len(result.errors)}"
        + (f" (first: {result.errors[0]})" if result.errors else "")
    )
    print(f"  checkout path      {result.path_rps:.0f} requests/s")
    print(
        f"  /healthz ceiling   {result.ceiling_rps:.0f} requests/s "
        f"(same server, {result.level} clients)"
    )
    print(f"  path / ceiling     {share:.0%} (target >= {CEILING_SHARE_TARGET:.0%})")
    print(
        f"  Open edX pushes    all done {result.push_seconds:.1f} s "
        "after the last checkout (worker)"
    )
    print(
        "  database           "
        + (
            "; ".join(result.problems)
            or "no code redeemed twice, members within the cap, one enrollment per checkout"
        )
    )


def _targets(results: list[LevelResult]) -> list[str]:
    missed = []
    for result in results:
        if result.errors or result.problems:
            missed.append(f"{result.level}: {len(result.errors)} errors, {result.problems}")
        if result.path_rps / result.ceiling_rps < CEILING_SHARE_TARGET:
            missed.append(
                f"{result.level}: checkout path under {CEILING_SHARE_TARGET:.0%} of the ceiling"
            )
        p95 = _percentile(result.step_ms("checkout"), 0.95)
        if result.level == P95_TARGET_LEVEL and p95 >= P95_TARGET_MS:
            missed.append(f"{result.level}: checkout p95 {p95:.0f} ms >= {P95_TARGET_MS} ms")
    return missed


# The servers.


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(url: str, redis_url: str, fake_edx, base: str) -> dict[str, str]:
    from tests.support.openedx_server import CLIENT_ID, CLIENT_SECRET

    return {
        **os.environ,
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": redis_url,
        "CACHE_URL": redis_url,
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "SITE_BASE_URL": base,
        "OPENEDX_API_BASE_URL": fake_edx.lms_url,
        "OPENEDX_STUDIO_API_BASE_URL": fake_edx.studio_url,
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID": CLIENT_ID,
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET": CLIENT_SECRET,
    }


def _start(env: dict[str, str], port: int, workers: int, log_dir: Path):
    bin_dir = Path(sys.executable).parent
    web_log = (log_dir / "gunicorn.log").open("w")
    web = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "config.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--preload",
            "--backlog=2048",
            "--timeout=120",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    worker_log = (log_dir / "celery.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    return web, worker


def _wait_until_up(base: str, web, workers: int) -> None:
    """Until /healthz answers, then once per worker process at least (each imports the URLs
    and views on its first request: not part of any measure)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit("gunicorn stopped; see its log")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                _ceiling(base, workers * 2, workers * 20)
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz within 180 s")


def _stop(*processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run_level(base: str, level: int, rounds: int, fake_edx, label: str = "") -> LevelResult:
    learners_count = level * rounds
    name = f"{label}{level}"
    contract, product, codes = _contract(name, learners_count, fake_edx)
    learners = _learners(name, codes, max(1, level // 10), fake_edx)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=level) as pool:
        outcomes = list(pool.map(lambda learner: _walk(base, product.pk, learner), learners))
    wall = time.perf_counter() - start
    push_seconds = _wait_for_pushes(contract, timeout=300)
    requests_sent = sum(len(o.latencies) for o in outcomes)
    ceiling = _ceiling(base, level, requests_sent)
    return LevelResult(
        level=level,
        learners=len(learners),
        wall=wall,
        outcomes=outcomes,
        ceiling_rps=ceiling,
        push_seconds=push_seconds,
        problems=_verify(contract, learners, outcomes),
    )


def _machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL {pg}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--levels", default="10,50,100", help="concurrent learners, comma-separated"
    )
    parser.add_argument("--rounds", type=int, default=3, help="learners per level = level x rounds")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn worker processes",
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    levels = [int(level) for level in args.levels.split(",")]

    prepare_environment(url)
    recreate_database(url)
    print(f"Preparing {url} ...", flush=True)
    _manage("migrate", "--noinput", "-v0")
    _manage("configure_wagtail")

    import django
    import redis

    django.setup()
    from tests.support.openedx_server import FakeOpenEdx

    redis.Redis.from_url(redis_url).flushdb()
    fake_edx = FakeOpenEdx().start()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_dir = (
        Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / f"bench-checkout-{uuid.uuid4().hex[:8]}"
    )
    log_dir.mkdir(parents=True)
    web, worker = _start(_server_env(url, redis_url, fake_edx, base), port, args.workers, log_dir)
    try:
        _wait_until_up(base, web, args.workers)
        print(f"Machine: {_machine()}")
        print(
            f"Server: gunicorn, {args.workers} sync workers, persistent database connections; "
            f"one Celery worker (solo pool) on {redis_url}; logs in {log_dir}"
        )
        # Each worker pays for its first pages (imports, compiled templates) once: a warm-up
        # round walks a few learners through every page first, outside the figures.
        warm = _run_level(base, args.workers, 2, fake_edx, label="W")
        print(f"Warm-up: {warm.checkouts} checkouts, {len(warm.errors)} errors (not counted)")
        results = []
        for level in levels:
            result = _run_level(base, level, args.rounds, fake_edx)
            _report(result)
            results.append(result)
    finally:
        _stop(web, worker)
        fake_edx.stop()
    missed = _targets(results)
    print("\nTargets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    sys.exit(1 if any(r.errors or r.problems for r in results) else 0)


if __name__ == "__main__":
    main()
