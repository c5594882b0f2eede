"""Every error of an operator's command is one line, a non-zero exit status, and nothing changed.

Each input of the table runs ``manage.py`` in a child process, as an operator would, against the
test database (on PostgreSQL) and the fake Open edX. For every input the test checks: the exit
status, exactly one line on stderr naming the problem, no traceback, the database's fingerprint
(row count and checksum of every project table) and the files of the working folder unchanged.
A dropped database connection is a real one: the command talks to PostgreSQL through a proxy
that cuts the connection at a chosen statement.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.db import connection

from b2b.services.codes.reconcile import reconcile_contract_codes
from config.commands import object_id
from config.text import text_argument
from tests.b2b.helpers import contract_with_products
from tests.support import factories as f
from tests.support.databases import database_url_for_subprocess
from tests.support.openedx_server import FakeOpenEdx
from tests.support.postgres_proxy import DroppingProxy

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

IMPORTED = "course-v1:UAI_SOURCE+IMP1+SOURCE"
LONG_TITLED = "course-v1:UAI_SOURCE+IMP3+SOURCE"
LONG = "L" * 300


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]
    exit_code: int
    says: str  # part of the one stderr line
    drop_at: tuple[bytes, int] | None = None  # cut the database connection at this statement
    env: dict[str, str] = field(default_factory=dict)


def _cases(contract_id: int, tmp: Path) -> list[Case]:
    c = str(contract_id)
    codes = ["b2b_list", "contracts", "--codes", c, "--codes-out"]
    return [
        Case(
            "contract name over 255",
            ["b2b_contract", "create", "Acme University", LONG, "non-sso"],
            1,
            "The contract name has 300 characters; at most 255 fit",
        ),
        Case(
            "organization name over 255",
            ["b2b_contract", "create", LONG, "X16", "non-sso", "--create"],
            1,
            "The organization name has 300 characters; at most 255 fit",
        ),
        Case(
            "cap over 2^31-1 on create",
            [
                *("b2b_contract", "create", "Acme University", "X3", "non-sso"),
                *("--max-learners", "3000000000"),
            ],
            2,
            "argument --max-learners: at most 2147483647: '3000000000'",
        ),
        Case(
            "cap over 2^31-1 on modify",
            ["b2b_contract", "modify", c, "--max-learners", "2147483648"],
            2,
            "argument --max-learners: at most 2147483647: '2147483648'",
        ),
        Case(
            "codes-out is a folder",
            [*codes, str(tmp / "folder")],
            1,
            f"Cannot write {tmp / 'folder'}: it is a folder",
        ),
        Case(
            "codes-out cannot be written",
            [*codes, "/proc/codes.csv"],
            1,
            "Cannot write /proc/codes.csv: ",
        ),
        Case(
            "codes-out already exists",
            [*codes, str(tmp / "existing.csv")],
            1,
            f"{tmp / 'existing.csv'} already exists; add --force to replace it",
        ),
        Case(
            "renew ending before it starts",
            ["b2b_contract", "renew", c, "--start", "2027-02-01", "--end", "2027-01-01"],
            1,
            "CommandError: The end date must not be before the start date.",
        ),
        Case(
            "renew without an end",
            ["b2b_contract", "renew", c, "--start", "2027-02-01"],
            2,
            "the following arguments are required: --end (see --help)",
        ),
        Case(
            "export output is a folder",
            ["b2b_contract", "export", c, "--output", str(tmp / "folder")],
            1,
            f"Cannot write {tmp / 'folder'}: {tmp / 'folder'} is a folder",
        ),
        Case(
            "export output already exists",
            ["b2b_contract", "export", c, "--output", str(tmp / "existing.csv")],
            1,
            f"{tmp / 'existing.csv'} already exists; add --force to replace it",
        ),
        Case(
            "import of a file that is not JSON",
            ["b2b_contract", "import", str(tmp / "existing.csv")],
            1,
            f"CommandError: {tmp / 'existing.csv'}: not JSON: Expecting value (line 1, column 1)",
        ),
        *(
            Case(
                f"import of a {what}{' (dry run)' if dry else ''}",
                ["b2b_contract", "import", str(tmp / file), *(["--dry-run"] if dry else [])],
                1,
                f"CommandError: {tmp / file}: {says}",
            )
            for what, file, says in (
                ("NUL in the organization's name", "nul-org.json", _NUL_SAYS["organization"]),
                ("NUL in the contract's name", "nul-contract.json", _NUL_SAYS["contract"]),
                ("NUL in a course id", "nul-course.json", _NUL_SAYS["courseware"]),
                ("deeply nested file", "deep.json", "not JSON: nested too deeply"),
            )
            for dry in (False, True)
        ),
        Case(
            "import of a missing file",
            ["b2b_contract", "import", str(tmp / "missing.json")],
            1,
            f"CommandError: Cannot read {tmp / 'missing.json'}: No such file or directory",
        ),
        Case(
            "connection dropped during an import",
            ["b2b_contract", "import", str(tmp / "contract.json")],
            1,
            "CommandError: database error: consuming input failed: server closed the connection "
            "unexpectedly",
            drop_at=(b'INSERT INTO "b2b_contractpage"', 1),
        ),
        Case(
            "import price of 1e8",
            ["import_courserun", "--courserun", IMPORTED, "--price", "100000000"],
            2,
            "argument --price: too large: '100000000'",
        ),
        Case(
            "import price of 1e12",
            ["import_courserun", "--courserun", IMPORTED, "--price", "1e12"],
            2,
            "argument --price: too large: '1e12'",
        ),
        Case(
            "import price with three decimals",
            ["import_courserun", "--courserun", IMPORTED, "--price", "1.999"],
            2,
            "argument --price: at most two decimal places: '1.999'",
        ),
        Case(
            "import title over 255",
            ["import_courserun", "--courserun", LONG_TITLED],
            1,
            f"Open edX gives {LONG_TITLED} a name of 400 characters; at most 255 fit",
        ),
        Case(
            "import without arguments",
            ["import_courserun"],
            2,
            "the following arguments are required: --courserun (see --help)",
        ),
        Case(
            "requeue without arguments",
            ["requeue_edx_copies"],
            2,
            "one of the arguments --contract --run is required (see --help)",
        ),
        Case(
            "requeue contract not an id",
            ["requeue_edx_copies", "--contract", "abc"],
            2,
            "argument --contract: not an id: 'abc' (see --help)",
        ),
        Case(
            "requeue contract and run",
            ["requeue_edx_copies", "--contract", c, "--run", "course-v1:NOPE+X+Y"],
            2,
            "argument --run: not allowed with argument --contract (see --help)",
        ),
        Case(
            "connection dropped during modify",
            ["b2b_contract", "modify", c, "--max-learners", "3001"],
            1,
            "CommandError: database error: consuming input failed: server closed the connection "
            "unexpectedly",
            drop_at=(b'UPDATE "b2b_contractcodestatus"', 1),
        ),
        Case(
            "connection dropped during the codes export",
            [*codes, str(tmp / "codes.csv")],
            1,
            "CommandError: database error: consuming input failed: server closed the connection "
            "unexpectedly",
            drop_at=(b"COPY (", 1),  # PostgreSQL lays the CSV out: cut as it starts streaming
        ),
        *_empty_argument_cases(),
    ]


_NUL_SAYS = {
    "organization": "organization.name must not contain NUL characters",
    "contract": "contract.name must not contain NUL characters",
    "courseware": "courseware.courses must not contain NUL characters",
}

# The apps whose commands are the project's (Django's, Wagtail's and the others' are theirs).
PROJECT_APPS = frozenset({"b2b", "cms", "config", "courses", "ecommerce", "users"})


def _placeholder(action: argparse.Action) -> str:
    """A value the argument takes, to reach the positional after it."""
    if action.choices:
        return next(iter(action.choices))
    return "1" if action.type is object_id else "x"


def _empty_cases_of(prefix: list[str], parser: argparse.ArgumentParser) -> list[Case]:
    cases, before = [], []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                cases += _empty_cases_of([*prefix, name], subparser)
            continue
        if action.type is text_argument:
            given = [action.option_strings[0]] if action.option_strings else before
            name = argparse._get_action_name(action)
            cases.append(
                Case(
                    f"{' '.join(prefix)}: empty {name}",
                    [*prefix, *given, ""],
                    2,
                    f"error: argument {name}: must not be empty: '' (see --help)",
                )
            )
        if not action.option_strings:
            before = [*before, _placeholder(action)]
    return cases


def _empty_argument_cases() -> list[Case]:
    """An empty value for each text argument of every project command (found in its parser)."""
    cases = []
    for name, app in sorted(get_commands().items()):
        if app in PROJECT_APPS:
            parser = load_command_class(app, name).create_parser("manage.py", name)
            cases += _empty_cases_of([name], parser)
    return cases


def _description(*, org: str = "Beta", name: str = "Beta 2027", courses=()) -> str:
    """A new organization's contract, as ``b2b_contract export`` writes one."""
    return json.dumps(
        {
            "format": "b2b-contract",
            "version": 1,
            "organization": {
                "name": org,
                "org_key": "BETA",
                "sso_organization_id": None,
                "description": "",
            },
            "contract": {
                "name": name,
                "description": "",
                "integration_type": "non-sso",
                "start": None,
                "end": None,
                "active": True,
                "max_learners": 5,
                "price": None,
                "renews": None,
            },
            "courseware": {"programs": [], "courses": list(courses), "courses_with_runs": []},
        }
    )


def test_every_text_argument_is_found():
    """The derived cases reach the arguments the trial found (a parser change is noticed)."""
    ids = {case.id for case in _empty_argument_cases()}
    assert {
        "b2b_manager add: empty --org/--organization",
        "b2b_manager remove: empty --org/--organization",
        "b2b_contract create: empty organization",
        "b2b_contract create: empty name",
        "b2b_contract import: empty FILE",
        "api_token: empty email",
        "import_courserun: empty --courserun",
    } <= ids
    assert not any("description" in case_id for case_id in ids)  # may be empty (to clear it)


def _fingerprint() -> dict[str, tuple[int, str]]:
    """Row count and checksum of every table a command may write."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND ("
            "tablename LIKE 'b2b\\_%%' OR tablename LIKE 'courses\\_%%' "
            "OR tablename LIKE 'ecommerce\\_%%' OR tablename IN ('wagtailcore_page', "
            "'wagtailcore_revision', 'wagtailcore_referenceindex', 'users_user'))"
        )
        tables = sorted(row[0] for row in cursor.fetchall())
        prints = {}
        for table in tables:
            cursor.execute(
                f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
                f' FROM "{table}" t'
            )
            prints[table] = cursor.fetchone()
    return prints


def _files(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every file and folder under ``folder``: mode and content."""
    return {
        str(path.relative_to(folder)): (
            path.stat().st_mode,
            path.read_bytes() if path.is_file() else None,
        )
        for path in sorted(folder.rglob("*"))
    }


def _run(case: Case, *, cwd: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, bool]:
    """Run the case's command; with ``drop_at``, through a proxy that cuts the connection.
    Returns the result and whether the connection was cut."""
    argv = [sys.executable, str(ROOT / "manage.py"), *case.argv]
    if case.drop_at is None:
        result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        return result, False
    trigger, occurrence = case.drop_at
    settings_dict = connection.settings_dict
    upstream = (settings_dict.get("HOST") or "127.0.0.1", int(settings_dict.get("PORT") or 5432))
    with DroppingProxy(trigger=trigger, occurrence=occurrence, upstream=upstream) as proxy:
        url = proxy.database_url(user=settings_dict["USER"], name=settings_dict["NAME"])
        result = subprocess.run(
            argv,
            cwd=cwd,
            env={**env, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        return result, proxy.dropped.is_set()


@pytest.fixture
def open_edx():
    server = FakeOpenEdx().start()
    server.add_lms_course(IMPORTED, name="Imported course", start="2026-01-05T00:00:00Z")
    server.add_lms_course(LONG_TITLED, name="T" * 400, start="2026-01-05T00:00:00Z")
    yield server
    server.stop()


def test_every_bad_input_is_one_line_a_failure_and_changes_nothing(site_tree, tmp_path, open_edx):
    org = f.OrganizationPageFactory(
        title="Acme University", slug="acme-university", org_key="ACMEUNIVERSITY"
    )
    contract, _ = contract_with_products(parent=org, max_learners=3000)
    reconcile_contract_codes(contract_id=contract.pk, force=True)  # 6,000 codes: two chunks
    (tmp_path / "folder").mkdir()
    (tmp_path / "existing.csv").write_text("what was here before\n")
    (tmp_path / "contract.json").write_text(_description())  # no courseware
    (tmp_path / "nul-org.json").write_text(_description(org="Be\x00ta"))
    (tmp_path / "nul-contract.json").write_text(_description(name="Beta\x00 2027"))
    (tmp_path / "nul-course.json").write_text(_description(courses=["course-v1:X+\x00+Y"]))
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "DEBUG"}},
        "DATABASE_URL": database_url_for_subprocess(),
        "SECRET_KEY": "test-only-secret-key",
        "OPENEDX_API_BASE_URL": open_edx.lms_url,
        "OPENEDX_STUDIO_API_BASE_URL": open_edx.studio_url,
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID": open_edx.client_id,
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET": open_edx.client_secret,
    }
    problems = {}
    for case in _cases(contract.pk, tmp_path):
        database, files = _fingerprint(), _files(tmp_path)
        result, dropped = _run(case, cwd=tmp_path, env={**env, **case.env})
        lines = result.stderr.splitlines()
        found = []
        if result.returncode != case.exit_code:
            found.append(f"exit {result.returncode}, not {case.exit_code}")
        if len(lines) != 1 or "Traceback" in result.stderr:
            found.append(f"stderr is not one line: ...{result.stderr[-300:]!r}")
        elif case.says not in lines[0]:
            found.append(f"stderr {lines[0]!r} does not say {case.says!r}")
        if case.drop_at is not None and not dropped:
            found.append("the connection was never cut")
        if _fingerprint() != database:
            found.append("the database changed")
        if _files(tmp_path) != files:
            found.append(f"the files changed: {sorted(_files(tmp_path))}")
        if found:
            problems[case.id] = found
    assert problems == {}, "\n".join(f"{name}: {found}" for name, found in problems.items())
