"""Start-up and codes-export benchmark (run by `make bench`, or alone with `make bench-startup`).

Prints, each figure beside a reference measured in the same run on the same machine:

- start-up: the wall time, CPU time and peak RSS of a management command that does almost nothing
  (`b2b_list organizations` on an empty list), the median of several runs, beside a bare
  `python -c "import django"` and `django.setup()` alone (what the installed apps cost before
  any command code runs);
- export: the whole `b2b_list contracts --codes` process for a contract of N codes (1,000,000 by
  default), time and peak RSS, beside a raw `COPY (SELECT ...) TO STDOUT` of the same rows from
  a bare psycopg process (no Django).

With `--baseline PATH` the same commands also run from another checkout of the project (say,
main before a change) against the same database, for before/after figures from one run.
The benchmark drops and recreates its own database (BENCH_DATABASE_URL).
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench"

RAW_COPY = """
import sys, psycopg
url, contract, out = sys.argv[1:]
query = (
    "COPY (SELECT d.discount_code, d.redemption_type, dp.product_id FROM ecommerce_discount d "
    "JOIN ecommerce_discountproduct dp ON dp.discount_id = d.id WHERE d.b2b_contract_id = %s "
    "AND d.is_active ORDER BY dp.product_id, d.id) TO STDOUT WITH (FORMAT csv, HEADER)"
)
with psycopg.connect(url) as conn, conn.cursor() as cur, open(out, "wb") as f:
    with cur.copy(query.replace("%s", str(int(contract)))) as copy:
        for block in copy:
            f.write(block)
"""


# Measures one process from a small parent: a child forked from this process (Django set up)
# would report this process's memory as its own peak RSS (Linux counts it from the fork). The
# CPU time (user + system) is the child's own: on a machine shared with other work it moves far
# less than the wall time, which includes the time spent waiting for a core.
LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(
    time.perf_counter() - started,
    usage.ru_utime + usage.ru_stime,
    usage.ru_maxrss,
    os.waitstatus_to_exitcode(status),
)
"""


def _environment(url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.setdefault("SECRET_KEY", "benchmark-only")
    env.setdefault("LOG_LEVEL", "WARNING")
    env.pop("CELERY_BROKER_URL", None)
    return env


def _process(argv: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Run one process to its end; (wall seconds, CPU seconds, peak RSS in MB)."""
    measured = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    elapsed, cpu, peak_kb = float(measured[0]), float(measured[1]), int(measured[2])
    if int(measured[3]) != 0:
        raise SystemExit(f"{' '.join(argv)} failed (in {cwd})")
    return elapsed, cpu, peak_kb / 1024


def _median(
    argv: list[str], *, cwd: Path, env: dict[str, str], runs: int
) -> tuple[float, float, float]:
    figures = [_process(argv, cwd=cwd, env=env) for _ in range(runs)]
    return (
        statistics.median(t for t, _, _ in figures),
        statistics.median(c for _, c, _ in figures),
        statistics.median(m for _, _, m in figures),
    )


def _line(label: str, seconds: float, cpu: float, rss: float) -> None:
    print(f"  {label:<52} {seconds:7.3f} s {cpu:7.3f} s CPU {rss:7.0f} MB", flush=True)


def _startup(projects: dict[str, Path], env: dict[str, str], runs: int) -> dict[str, float]:
    python = sys.executable
    print(f"Start-up (median of {runs} runs; wall time, CPU time, peak RSS)")
    _line(
        "reference: python -c 'import django'",
        *_median([python, "-c", "import django"], cwd=ROOT, env=env, runs=runs),
    )
    results = {}
    for name, project in projects.items():
        _line(
            f"[{name}] django.setup() alone",
            *_median(
                [python, "-c", "import django; django.setup()"], cwd=project, env=env, runs=runs
            ),
        )
        seconds, cpu, rss = _median(
            [python, "manage.py", "b2b_list", "organizations"], cwd=project, env=env, runs=runs
        )
        _line(f"[{name}] manage.py b2b_list organizations", seconds, cpu, rss)
        results[name] = seconds
        results[f"{name} cpu"] = cpu
        results[f"{name} rss"] = rss
    return results


def _contract_with_codes(codes: int, courses: int) -> int:
    """A contract whose reconciliation (the product's own path) made ``codes`` codes."""
    from django.contrib.contenttypes.models import ContentType

    from b2b.models import ContractPage
    from b2b.services.codes.reconcile import reconcile_contract_codes
    from b2b.services.organizations.create import create_organization, unique_child_slug
    from courses.models import Course, CourseRun
    from ecommerce.models import Product

    org = create_organization(name="Bench export")
    contract = org.add_child(
        instance=ContractPage(
            title="Export",
            slug=unique_child_slug(org, "Export"),
            integration_type="non-sso",
            max_learners=codes // courses,
        )
    )
    run_type = ContentType.objects.get_for_model(CourseRun)
    for number in range(courses):
        course = Course.objects.create(
            title=f"Export course {number}", readable_id=f"course-v1:BENCH+EXP{number:02d}"
        )
        run = CourseRun.objects.create(
            course=course,
            title=f'Export course {number}, a title, with "quotes"',
            run_tag=f"C{contract.pk}",
            courseware_id=f"{course.readable_id}+C{contract.pk}",
            b2b_contract=contract,
            live=True,
            is_self_paced=True,
        )
        Product.objects.create(content_type=run_type, object_id=run.pk, price=0)
    reconcile_contract_codes(contract_id=contract.pk, force=True)
    return contract.pk


def _export(projects, env, *, url: str, codes: int, courses: int) -> dict[str, float]:
    started = time.perf_counter()
    contract_id = _contract_with_codes(codes, courses)
    print(
        f"\nExport ({codes:,} codes in {courses} courses, made in "
        f"{time.perf_counter() - started:.1f} s; one run each; wall time, CPU time, peak RSS)"
    )
    out = Path("/tmp") / f"bench-export-{contract_id}.csv"
    seconds, cpu, rss = _process(
        [sys.executable, "-c", RAW_COPY, url, str(contract_id), str(out)], cwd=ROOT, env=env
    )
    _line("reference: raw COPY ... TO STDOUT (bare psycopg)", seconds, cpu, rss)
    results = {"copy": seconds}
    for name, project in projects.items():
        argv = [
            sys.executable,
            "manage.py",
            "b2b_list",
            "contracts",
            "--codes",
            str(contract_id),
            "--codes-out",
            str(out),
            "--force",
        ]
        seconds, cpu, rss = _process(argv, cwd=project, env=env)
        rows = sum(1 for _ in out.open(newline="")) - 1
        _line(f"[{name}] b2b_list contracts --codes ({rows:,} rows)", seconds, cpu, rss)
        results[name] = seconds
        results[f"{name} rss"] = rss
    out.unlink(missing_ok=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--codes", type=int, default=1_000_000, help="codes of the exported contract"
    )
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7, help="runs per start-up figure (median)")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure beside this one")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()

    env = _environment(args.database_url)
    os.environ.update(env)
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("configure_wagtail", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115

    projects = {"this": ROOT}
    if args.baseline:
        projects["baseline"] = args.baseline.resolve()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"Machine: {machine}, load average {os.getloadavg()[0]:.1f}\n")
    startup = _startup(projects, env, args.runs)
    export = (
        {}
        if args.skip_export
        else _export(projects, env, url=args.database_url, codes=args.codes, courses=args.courses)
    )
    print("\nTargets")
    print(
        f"  start-up: {startup['this']:.3f} s ({startup['this cpu']:.3f} s CPU), "
        f"{startup['this rss']:.0f} MB (targets < 1.0 s, < 110 MB)"
    )
    if export:
        print(
            f"  codes CSV: {export['this']:.3f} s, {export['this rss']:.0f} MB "
            f"(target < 4 s, memory flat); {export['this'] / export['copy']:.2f}x the raw COPY"
        )


if __name__ == "__main__":
    main()
