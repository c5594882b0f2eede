"""Six operators create a contract for the same new organization at the same moment.

Six `b2b_contract create ... --create` processes run against PostgreSQL. To make them collide
every time, the test holds an exclusive lock on the organizations table until all six wait on
it, then lets them go together: each has just found no such organization and goes on to create
it. One organization must come out of it, with the six contracts, and no command may fail.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from b2b.models import ContractPage, OrganizationPage
from tests.support.databases import database_url_for_subprocess

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PROCESSES = 6


def _waiting_on(cursor, table: str) -> int:
    cursor.execute(
        "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted", [table]
    )
    return cursor.fetchone()[0]


def test_six_parallel_creates_of_one_new_organization_make_one(site_tree):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "DEBUG"}},
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": "test-only-secret-key",
    }
    names = [f"Gamma {i}" for i in range(PROCESSES)]
    with psycopg.connect(database_url_for_subprocess()) as gate:
        gate.execute("LOCK TABLE b2b_organizationpage IN ACCESS EXCLUSIVE MODE")
        commands = [
            subprocess.Popen(
                [
                    *(sys.executable, str(ROOT / "manage.py"), "b2b_contract", "create"),
                    *("Gamma Parallel Org", name, "non-sso", "--create"),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in names
        ]
        deadline = time.monotonic() + 120
        with connection.cursor() as cursor:
            while _waiting_on(cursor, "b2b_organizationpage") < PROCESSES:
                assert time.monotonic() < deadline, "the commands never reached the look-up"
                time.sleep(0.1)
        gate.commit()  # all six go at once
        results = [command.communicate(timeout=120) for command in commands]

    failures = {
        name: (command.returncode, err)
        for name, command, (_out, err) in zip(names, commands, results, strict=True)
        if command.returncode != 0 or err
    }
    assert failures == {}
    org = OrganizationPage.objects.get()
    assert (org.title, org.org_key, org.slug) == (
        "Gamma Parallel Org",
        "GAMMAPARALLELORG",
        "gamma-parallel-org",
    )
    outputs = [out for out, _err in results]
    announced = f"Created organization Gamma Parallel Org (id {org.pk}, key GAMMAPARALLELORG, "
    assert [out.startswith(announced) for out in outputs].count(True) == 1
    for name, out in zip(names, outputs, strict=True):
        last = out.splitlines()[-1]
        assert last.startswith(f"Created contract {name} (id "), out
        assert last.endswith(f"for organization Gamma Parallel Org (id {org.pk})"), out
    assert sorted(ContractPage.objects.of_organization(org).values_list("title", flat=True)) == (
        names
    )
