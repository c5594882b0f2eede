"""Enrollment-code benchmark (run with `make bench`; needs PostgreSQL).

Work: a contract with 20 courses and a cap of 50,000 learners, so 1,000,000 codes (``--size``
sets the number of codes: `make bench BENCH_ARGS="--size 200000"`). Prints, for each step, the
wall time and the number of queries:

- the first reconciliation, a second one with nothing changed (beside a plain count of the
  contract's codes, what any check reading every code costs at least), a price change and a
  change of dates (each writes the contract's one terms row; beside one raw UPDATE of every
  code, the floor of the schema that stamped the price and dates on every code), the cap
  lowered by half, the cap removed;
- the CSV export of all codes, with the peak memory of the whole `b2b_list` process and the peak
  of Python allocations inside the export;
- the first page of the codes through the REST API (median of a few requests, and its queries);
- two references on the same data: the codes created one row at a time (one INSERT per code and
  per link; up to 200,000 codes, it takes too long beyond) and a raw PostgreSQL COPY of the
  same rows;
- with ``--explain``, the plans of the queries that need an index (docs/architecture.md).

The benchmark drops and recreates its own database (BENCH_DATABASE_URL).
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    QueryCounter,
    bench_contract,
    bench_run,
    measured,
    prepare_environment,
    recreate_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench"
ROW_BY_ROW_LIMIT = 200_000  # codes; the one-INSERT-per-row reference is left out beyond


def _contract(name: str, *, cap: int, courses: int):
    contract = bench_contract(name, cap=cap)
    product_ids = []
    for number in range(courses):
        _run, product = bench_run(
            contract,
            title=f"{name} course {number}",
            readable_id=f"course-v1:BENCH+{name}{number:02d}",
        )
        product_ids.append(product.pk)
    return contract, product_ids


def _row_by_row(contract, product_ids, cap: int) -> None:
    from ecommerce.models import Discount, DiscountProduct

    for product_id in product_ids:
        for _ in range(cap):
            code = Discount.objects.create(
                discount_code=str(uuid.uuid4()),
                discount_type="fixed-price",
                redemption_type="one-time",
                payment_type="sales",
                is_bulk=True,
                b2b_contract=contract,
            )
            DiscountProduct.objects.create(discount=code, product_id=product_id)


def _copy_floor(contract, product_ids, cap: int) -> None:
    from django.db import connection

    from ecommerce.models import Discount, DiscountProduct

    total = cap * len(product_ids)
    discount_table = Discount._meta.db_table
    link_table = DiscountProduct._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            "nextval(pg_get_serial_sequence(%s, 'id')) + %s)",
            [discount_table, discount_table, total],
        )
        last = cursor.fetchone()[0]
        first = last - total + 1
        raw = cursor.cursor  # the psycopg cursor, for COPY
        columns = (
            "id, discount_code, discount_type, redemption_type, payment_type, is_bulk, "
            "is_active, b2b_contract_id, created_on, updated_on"
        )
        with raw.copy(f"COPY {discount_table} ({columns}) FROM STDIN") as copy:
            for offset in range(total):
                copy.write_row(
                    (
                        first + offset,
                        str(uuid.uuid4()),
                        "fixed-price",
                        "one-time",
                        "sales",
                        True,
                        True,
                        contract.pk,
                        "now",
                        "now",
                    )
                )
        with raw.copy(f"COPY {link_table} (discount_id, product_id) FROM STDIN") as copy:
            for offset in range(total):
                copy.write_row((first + offset, product_ids[offset // cap]))


def _vacuum() -> None:
    """VACUUM ANALYZE the code tables, as autovacuum does soon after a big change."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "ecommerce_discount",
            "ecommerce_discountproduct",
            "ecommerce_contractcodecensus",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _count_codes(contract) -> None:
    from ecommerce.models import Discount

    Discount.objects.filter(b2b_contract=contract).count()


def _touch_codes(contract) -> None:
    """One UPDATE of every code of the contract, outside the application: the floor of any
    change that rewrites them all (the census triggers included), which is what a price or
    date change cost while every code carried the contract's price and dates."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ecommerce_discount SET updated_on = now() WHERE b2b_contract_id = %s",
            [contract.pk],
        )


def _explain_plans(contract) -> None:
    """EXPLAIN ANALYZE of the queries that need an index, on the benchmark's data."""
    from django.db import connection

    from ecommerce.services.contract_codes.reads import contract_code_census
    from ecommerce.services.contract_codes.rows import contract_codes

    queries = {
        "the census of a contract (no-op reconciliation)": _census_sql(contract),
        "API codes, ?redeemed=false, first page": contract_codes(contract.pk, redeemed=False)
        .order_by("pk")[:51]
        .query.sql_with_params(),
        "checkout: a code by its text": (
            "SELECT * FROM ecommerce_discount WHERE discount_code = %s",
            ["no-such-code"],
        ),
    }
    contract_code_census(contract.pk)
    with connection.cursor() as cursor:
        for label, (sql, params) in queries.items():
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}", params)
            print(f"\nEXPLAIN {label}")
            for (line,) in cursor.fetchall():
                print(f"  {line}")
    print()


def _census_sql(contract):
    from django.db.models import Sum

    from ecommerce.models import ContractCodeCensus
    from ecommerce.services.contract_codes.reads import CENSUS_STATE

    return (
        ContractCodeCensus.objects.filter(contract_id=contract.pk)
        .values(*CENSUS_STATE)
        .annotate(codes=Sum("n"))
        .exclude(codes=0)
        .order_by()
        .query.sql_with_params()
    )


def _api_first_pages(contract, results: list, *, repeat: int = 5) -> None:
    """GET the first page of the contract's codes through the API (Django's test client, a staff
    session), ``repeat`` times per query string; prints the median time and the queries of one."""
    import statistics
    import warnings

    from django.db import connection
    from django.test import Client

    from users.models import User

    staff = User.objects.create_user(email="bench-staff@example.com", password=None)
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(staff)
    # WhiteNoise warns that static files were never collected: the API serves none.
    warnings.filterwarnings("ignore", message="No directory at")
    for query, label in (("", "API codes, first page"), ("?redeemed=false", "  same, unredeemed")):
        url = f"/api/v1/b2b/contracts/{contract.pk}/codes/{query}"
        times, counts = [], []
        for _ in range(repeat):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content[:200]
            assert len(response.json()["results"]) == 50
            counts.append(counter.count)
        median = statistics.median(times)
        results.append((label, median, counts[-1]))
        print(f"  {label + f' (median of {repeat})':<44} {median:8.3f} s {counts[-1]:7d} queries")


def _command_in_subprocess(*args: str) -> tuple[float, float]:
    """Run a real management command; returns (seconds, peak RSS in MB) of that process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="codes (cap x courses)")
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--skip-row-by-row", action="store_true", help="skip the slow reference")
    parser.add_argument("--explain", action="store_true", help="print the plans of key queries")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    args.cap = max(args.size // args.courses, 1)
    if args.cap * args.courses > ROW_BY_ROW_LIMIT:
        args.skip_row_by_row = True

    prepare_environment(args.database_url)
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("configure_wagtail", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115

    from b2b.services.codes.export import write_codes_csv
    from b2b.services.codes.reconcile import reconcile_contract_codes
    from b2b.services.contracts.terms import ContractChange, modify_contract

    total = args.cap * args.courses
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"Work: cap {args.cap} x {args.courses} courses = {total} codes\n")
    results: list = []

    contract, _ = _contract("Reconciled", cap=args.cap, courses=args.courses)

    def reconcile():
        reconcile_contract_codes(contract_id=contract.pk, force=True)

    def modify(**values):
        # As an operator runs it: the change is published, and its (eager) task reconciles.
        modify_contract(contract_id=contract.pk, change=ContractChange(**values))

    print("Reconciliation")
    with measured("first reconciliation (creates all codes)", results):
        reconcile()
    _vacuum()
    with measured("second reconciliation (nothing changed)", results):
        reconcile()
    with measured("  reference: count the contract's codes", results):
        _count_codes(contract)
    with measured("price changed to $25", results):
        modify(enrollment_fixed_price=Decimal("25.00"))
    with measured("dates set (start and end)", results):
        modify(contract_start=date(2026, 1, 1), contract_end=date(2030, 12, 31))
    with measured("  reference: one raw UPDATE of every code", results):
        _touch_codes(contract)
    _vacuum()
    with measured("no-op after the changes", results):
        reconcile()
    with measured(f"cap lowered to {args.cap // 2}", results):
        modify(max_learners=args.cap // 2)
    with measured("cap removed", results):
        modify(max_learners=None)
    # Back to cap x courses usable codes, free and without dates.
    modify(
        max_learners=args.cap, enrollment_fixed_price=None, contract_start=None, contract_end=None
    )
    _vacuum()
    if args.explain:
        _explain_plans(contract)

    print("\nExport")
    folder = Path(tempfile.mkdtemp(prefix="bench-codes-"))  # never a stale file of a run before
    out = folder / "codes.csv"
    _, baseline = _command_in_subprocess("b2b_list", "organizations")
    seconds, rss = _command_in_subprocess(
        "b2b_list", "contracts", "--codes", str(contract.pk), "--codes-out", str(out)
    )
    rows = sum(1 for _ in out.open()) - 1
    print(f"  {'CSV export, b2b_list process':<44} {seconds:8.3f} s  peak RSS {rss:.0f} MB")
    print(f"  {'  (rows written)':<44} {rows:8d}")
    print(f"  {'  (same command listing orgs: start-up RSS)':<44} {baseline:8.0f} MB")
    out.unlink()
    tracemalloc.start()
    started = time.perf_counter()
    write_codes_csv(contract, out)
    in_process = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {'CSV export, in process':<44} {in_process:8.3f} s")
    print(f"  {'  (peak Python allocations)':<44} {peak / 2**20:8.1f} MB")
    shutil.rmtree(folder)

    print("\nAPI (/api/v1/b2b/contracts/{id}/codes/, 50 a page)")
    _api_first_pages(contract, results)

    print("\nReferences (same rows, fresh contracts)")
    copy_contract, copy_products = _contract("Copy", cap=args.cap, courses=args.courses)
    from django.db import transaction

    with measured("COPY of the same rows (floor)", results), transaction.atomic():
        _copy_floor(copy_contract, copy_products, args.cap)
    if not args.skip_row_by_row:
        naive_contract, naive_products = _contract("Naive", cap=args.cap, courses=args.courses)
        with measured("row by row (peer)", results), transaction.atomic():
            _row_by_row(naive_contract, naive_products, args.cap)

    timings = {label: seconds for label, seconds, _ in results}
    first = timings["first reconciliation (creates all codes)"]
    floor = timings["COPY of the same rows (floor)"]
    print("\nTargets")
    print(f"  first reconciliation vs COPY:   {first / floor:5.2f}x (target <= 2x)")
    if not args.skip_row_by_row:
        naive = timings["row by row (peer)"]
        print(f"  row by row vs first reconciliation: {naive / first:5.1f}x faster (target >= 20x)")
    noop = timings["second reconciliation (nothing changed)"]
    count = timings["  reference: count the contract's codes"]
    print(
        f"  no-op reconciliation:           {noop:.3f} s (target < 0.3 s; counting the codes: "
        f"{count:.3f} s)"
    )
    price = timings["price changed to $25"]
    dates = timings["dates set (start and end)"]
    touch = timings["  reference: one raw UPDATE of every code"]
    print(
        f"  price change:                   {price:.3f} s (target < 10 s; one terms row; "
        f"rewriting every code, the old floor: {touch:.3f} s)"
    )
    print(
        f"  date change:                    {dates:.3f} s (one terms row; rewriting every "
        f"code: {touch:.3f} s)"
    )
    print(
        f"  CSV export:                     {seconds:.3f} s, {rss:.0f} MB (targets < 3 s, < 150 MB)"
    )
    page = timings["API codes, first page"]
    print(f"  API codes, first page:          {page:.3f} s (constant in the number of codes)")


if __name__ == "__main__":
    main()
