"""Health report benchmark: the whole report on 200 contracts and 1,000,000 enrollment codes.

Builds the contracts (each with its runs, products and codes, made by the real reconciliation),
attaches learners, breaks a few things on purpose, then times ``health_report()`` in process
(with its query count) and ``manage.py b2b_health --format json`` as an operator runs it. Run by
``make bench-health``; the benchmark drops and recreates its own database
(BENCH_DATABASE_URL).
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.codes_benchmark import _contract  # noqa: E402
from bench.common import measured, prepare_environment, recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench_health"


def _build(contracts: int, cap: int, courses: int, learners: int) -> list:
    from b2b.enums import MembershipSource
    from b2b.models import ContractMembership
    from b2b.services.codes.reconcile import reconcile_contract_codes
    from users.models import User

    made = []
    started = time.perf_counter()
    for number in range(contracts):
        contract, product_ids = _contract(f"H{number:03d}", cap=cap, courses=courses)
        reconcile_contract_codes(contract_id=contract.pk, force=True)
        users = User.objects.bulk_create(
            User(email=f"h{number}-{n}@example.com", name="Bench") for n in range(learners)
        )
        ContractMembership.objects.bulk_create(
            ContractMembership(user=user, contract=contract, source=MembershipSource.STAFF)
            for user in users
        )
        made.append((contract, product_ids))
        if (number + 1) % 20 == 0:
            print(
                f"  built {number + 1}/{contracts} contracts "
                f"({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    return made


def _break_some(made: list) -> None:
    from b2b.models import ContractCodeStatus
    from ecommerce.models import Discount, Product

    first_products, second = made[0][1], made[1][0]
    Product.objects.filter(pk=first_products[0]).update(price=7)
    Discount.objects.filter(
        pk__in=Discount.objects.filter(b2b_contract=second).values("pk")[:10]
    ).update(is_active=False)
    ContractCodeStatus.objects.filter(pk=made[2][0].pk).update(last_error="bench failure")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=200)
    parser.add_argument("--cap", type=int, default=1000)
    parser.add_argument("--courses", type=int, default=5)
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()

    prepare_environment(args.database_url)
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("configure_wagtail", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    from b2b.services.health.report import health_report

    codes = args.contracts * args.cap * args.courses
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"Work: {args.contracts} contracts x {args.courses} courses x cap {args.cap}")
    print(f"      = {codes} codes, {args.contracts * args.learners} learners\n")
    made = _build(args.contracts, args.cap, args.courses, args.learners)
    _break_some(made)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT count(*) FROM ecommerce_discount")
        print(f"\nCodes in the database: {cursor.fetchone()[0]}")

    print("\nHealth report")
    results: list = []
    for attempt in (1, 2):
        with measured(f"health_report(), in process (run {attempt})", results):
            report = health_report()
    print(f"  findings: {len(report.findings)} ({', '.join(f.check for f in report.findings)})")
    env = {**os.environ, "DATABASE_URL": args.database_url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "b2b_health", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    print(f"  {'manage.py b2b_health --format json':<44} {seconds:8.3f} s  exit {done.returncode}")


if __name__ == "__main__":
    main()
