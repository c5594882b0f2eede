"""Invitation benchmark (run with `make bench-invite`, also part of `make bench`; needs
PostgreSQL).

Work: 10,000 e-mail addresses invited to a contract at once, as a manager's CSV upload does
(``b2b.services.invitations.invite_many``), twice:

- a capped contract (cap 10,000, one course, so 10,000 pool codes made first): each invitation
  takes an unused code of the pool;
- an uncapped contract: each invitation gets a personal one-time code made for it.

For each, it prints the time and queries of the invitations (the rows, the codes set aside, the
queued e-mail records, the audit entries; committed in batches of B2B_INVITATION_BATCH_SIZE),
then the time to render and send the 10,000 e-mails in-process through Django's in-memory
e-mail backend (a worker does this part in production).

The benchmark drops and recreates its own database (BENCH_INVITE_DATABASE_URL).
"""

import argparse
import os
import platform
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench_invite"


def _prepare_environment(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def _recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def measured(label: str):
    from django.db import connection

    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
    print(f"  {label:<52} {elapsed:8.3f} s {count:7d} queries", flush=True)


def _contract(name: str, *, cap: int | None):
    from django.contrib.contenttypes.models import ContentType

    from b2b.models import ContractPage
    from b2b.services.codes import reconcile_contract_codes
    from b2b.services.organizations import create_organization, unique_child_slug
    from courses.models import Course, CourseRun
    from ecommerce.models import Product

    org = create_organization(name=f"Bench {name}")
    contract = org.add_child(
        instance=ContractPage(
            title=name,
            slug=unique_child_slug(org, name),
            integration_type="non-sso",
            max_learners=cap,
            enrollment_fixed_price=10,
        )
    )
    course = Course.objects.create(title=f"{name} course", readable_id=f"course-v1:BENCH+{name}")
    run = CourseRun.objects.create(
        course=course,
        title=course.title,
        run_tag=f"C{contract.pk}",
        courseware_id=f"{course.readable_id}+C{contract.pk}",
        b2b_contract=contract,
        live=True,
        is_self_paced=True,
    )
    run_type = ContentType.objects.get_for_model(CourseRun)
    Product.objects.create(content_type=run_type, object_id=run.pk, price=10)
    reconcile_contract_codes(contract_id=contract.pk, force=True)
    return contract


def _run(label: str, contract, count: int) -> None:
    from django.core import mail
    from django.db import transaction

    from b2b.enums import InviteOutcome
    from b2b.services.invitations import InviteRow, invite_many

    rows = [
        InviteRow(f"learner{n}@{label.lower()}.example.com", f"Learner {n}") for n in range(count)
    ]
    mail.outbox = []
    print(label)
    # The e-mails go out when the atomic block commits: the outer figure includes them.
    with (
        measured(f"invite {count} e-mails, then send them"),
        transaction.atomic(),
        measured(f"invite {count} e-mails"),
    ):
        results = invite_many(contract=contract, rows=rows, by=None)
    invited = sum(r.outcome == InviteOutcome.INVITED for r in results)
    print(f"  invited {invited} of {count}; {len(mail.outbox)} e-mails sent\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_INVITE_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args()
    _prepare_environment(args.database_url)
    _recreate_database(args.database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("configure_wagtail", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"Batch size: {settings.B2B_INVITATION_BATCH_SIZE} rows (B2B_INVITATION_BATCH_SIZE)\n")
    _run("Capped", _contract("Capped", cap=args.count), args.count)
    _run("Uncapped", _contract("Uncapped", cap=None), args.count)
    print("(the first figure of each pair includes the second: invitations, then the e-mails)")


if __name__ == "__main__":
    main()
