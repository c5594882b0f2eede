"""Invitation benchmark (run with `make bench-invite`, also part of `make bench`; needs
PostgreSQL).

Work: 10,000 e-mail addresses invited to a contract at once, as a manager's CSV upload does
(``b2b.services.invitations.invite.invite_many``), twice:

- a capped contract (cap 10,000, one course, so 10,000 pool codes made first): each invitation
  takes an unused code of the pool;
- an uncapped contract: each invitation gets a personal one-time code made for it.

For each, it prints the time and queries of the invitations (the rows, the codes set aside, the
queued e-mail records, the audit entries; in batches of B2B_INVITATION_BATCH_SIZE; rolled back
at the end so that their e-mails are not sent), then the time to invite a sample of 200 more
and render and send their e-mails in-process through Django's in-memory backend (a worker does
that part in production).

The benchmark drops and recreates its own database (BENCH_INVITE_DATABASE_URL).
"""

import argparse
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_contract, bench_run, measured, prepare_environment, recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/b2b_bench_invite"


def _contract(name: str, *, cap: int | None):
    from b2b.services.codes.reconcile import reconcile_contract_codes

    contract = bench_contract(name, cap=cap, price=10)
    bench_run(contract, title=f"{name} course", readable_id=f"course-v1:BENCH+{name}", price=10)
    reconcile_contract_codes(contract_id=contract.pk, force=True)
    return contract


def _rows(label: str, count: int, start: int = 0):
    from b2b.services.invitations.invite import InviteRow

    domain = f"{label.lower()}.example.com"
    return [InviteRow(f"learner{n}@{domain}", f"Learner {n}") for n in range(start, start + count)]


def _run(label: str, contract, count: int, sample: int) -> None:
    from django.core import mail
    from django.db import transaction

    from b2b.enums import InviteOutcome
    from b2b.services.invitations.invite import invite_many

    print(label)
    # The invitations, rolled back at the end: their e-mails (queued after commit) never go.
    with transaction.atomic(), measured(f"invite {count} e-mails (e-mails not sent)", width=52):
        results = invite_many(contract=contract, rows=_rows(label, count), by=None)
        transaction.set_rollback(True)
    invited = sum(r.outcome == InviteOutcome.INVITED for r in results)
    print(f"  invited {invited} of {count}", flush=True)
    mail.outbox = []
    # A sample committed for real: its e-mails are rendered and sent in-process after commit.
    with measured(f"invite {sample} e-mails and send them (in-process)", width=52):
        invite_many(contract=contract, rows=_rows(label, sample, count), by=None)
    print(f"  {len(mail.outbox)} e-mails sent\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--send-sample", type=int, default=200, help="e-mails sent for real")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_INVITE_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args()
    prepare_environment(
        args.database_url, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
    )
    recreate_database(args.database_url)
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
    cap = args.count + args.send_sample
    _run("Capped", _contract("Capped", cap=cap), args.count, args.send_sample)
    _run("Uncapped", _contract("Uncapped", cap=None), args.count, args.send_sample)


if __name__ == "__main__":
    main()
