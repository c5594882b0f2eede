"""`make test-sqlite` may skip only what a marker says needs a service (tests/conftest.py): run
as that target runs, on the embedded SQLite, a PostgreSQL test is skipped with its reason and the
run passes; a test skipped any other way fails the run and is named."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = "tests/ci/skip_samples.py"


def run_on_sqlite(*args: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "TEST_DATABASE_URL", "REQUIRE_SERVICES"}
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env={**env, "SECRET_KEY": "test-only-secret-key"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_markers_skip_passes():
    result = run_on_sqlite(SAMPLES, "-k", "marked or passes")
    assert result.returncode == 0, result.stdout
    assert (
        "SKIPPED [1] tests/ci/skip_samples.py:7: needs PostgreSQL: set DATABASE_URL=postgres://..."
    ) in result.stdout
    assert "1 passed, 1 skipped" in result.stdout


def test_a_skip_without_a_marker_fails_the_run():
    result = run_on_sqlite(SAMPLES)
    assert result.returncode == 1, result.stdout
    summary = result.stdout.split("skips without a service marker's reason", 1)[1]
    assert summary.splitlines()[1:3] == [
        "tests/ci/skip_samples.py::test_skips_for_no_marker: not today",
        "Mark a test postgres, redis, browser or programs(...) for what it needs; skip "
        "nothing else (tests/conftest.py).",
    ]
