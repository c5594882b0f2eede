"""What every benchmark script does before it measures: point Django at its own database, with
no broker (queued work runs in-process) and quiet logs, and start that database empty."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager


def prepare_environment(url: str, **extra: str) -> None:
    """Set this process's environment for Django on the benchmark database ``url``; ``extra``
    adds or overrides variables (an e-mail backend, say). Call before ``django.setup()``."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("CACHE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(extra)


def recreate_database(url: str) -> None:
    """Drop the database ``url`` names (closing its connections) and create it empty."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class QueryCounter:
    """An execute wrapper (``connection.execute_wrapper``) that counts the queries it sees."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def measured(label: str, results: list | None = None, *, width: int = 44) -> Iterator[None]:
    """Time the block and count its queries; print one line (the label padded to ``width``)
    and, given ``results``, append ``(label, seconds, queries)`` to it."""
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
    if results is not None:
        results.append((label, elapsed, counter.count))
    print(f"  {label:<{width}} {elapsed:8.3f} s {counter.count:7d} queries", flush=True)


def bench_contract(name: str, *, cap: int | None, price: int | None = None):
    """A new organization "Bench <name>" with one non-SSO contract ``name`` (capped at ``cap``,
    at ``price``), made as staff would; the data a benchmark measures against."""
    from b2b.models import ContractPage
    from b2b.services.organizations.create import create_organization, unique_child_slug

    org = create_organization(name=f"Bench {name}")
    return org.add_child(
        instance=ContractPage(
            title=name,
            slug=unique_child_slug(org, name),
            integration_type="non-sso",
            max_learners=cap,
            enrollment_fixed_price=price,
        )
    )


def bench_run(contract, *, title: str, readable_id: str, price: int = 0, run_title: str = ""):
    """A live self-paced contract run of a new course ``readable_id``, with its product at
    ``price``; returns (run, product)."""
    from django.contrib.contenttypes.models import ContentType

    from courses.models import Course, CourseRun
    from ecommerce.models import Product

    course = Course.objects.create(title=title, readable_id=readable_id)
    run = CourseRun.objects.create(
        course=course,
        title=run_title or course.title,
        run_tag=f"C{contract.pk}",
        courseware_id=f"{course.readable_id}+C{contract.pk}",
        b2b_contract=contract,
        live=True,
        is_self_paced=True,
    )
    run_type = ContentType.objects.get_for_model(CourseRun)
    return run, Product.objects.create(content_type=run_type, object_id=run.pk, price=price)
