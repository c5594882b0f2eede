"""The periodic sweeps: Celery beat's schedule, the broker's visibility timeout, and the
docker-compose topology that runs beat. Each settings case runs a fresh interpreter with its
own environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
django.setup()
from config.celery import app
app.loader.import_default_modules()  # what a worker or beat does when it starts
print(json.dumps({
    "schedule": {
        name: {"task": entry["task"], "seconds": entry["schedule"].total_seconds()}
        for name, entry in app.conf.beat_schedule.items()
    },
    "transport": app.conf.broker_transport_options,
    "registered": sorted(name for name in app.tasks if not name.startswith("celery.")),
}))
"""
SWEEPS = {"b2b.requeue_pending_codes", "courses.requeue_stuck_edx_copies"}


def _run(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "test-only-secret-key",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_beat_runs_both_sweeps_every_five_minutes_by_default():
    result = _run()
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["schedule"] == {
        "requeue-pending-codes": {"task": "b2b.requeue_pending_codes", "seconds": 300.0},
        "requeue-stuck-edx-copies": {"task": "courses.requeue_stuck_edx_copies", "seconds": 300.0},
    }
    assert set(values["registered"]) >= SWEEPS
    assert values["transport"] == {"visibility_timeout": 1200}


def test_the_interval_and_the_visibility_timeout_come_from_the_environment():
    result = _run(PENDING_SWEEP_INTERVAL_SECONDS="45", CELERY_VISIBILITY_TIMEOUT_SECONDS="1000")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert {entry["seconds"] for entry in values["schedule"].values()} == {45.0}
    assert {entry["task"] for entry in values["schedule"].values()} == SWEEPS
    assert values["transport"] == {"visibility_timeout": 1000}


def test_a_visibility_timeout_shorter_than_a_retry_wait_is_refused():
    result = _run(CELERY_VISIBILITY_TIMEOUT_SECONDS="600")  # Open edX retries wait up to 900 s
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: CELERY_VISIBILITY_TIMEOUT_SECONDS must be "
        "longer than OPENEDX_RETRY_BACKOFF_MAX_SECONDS and DATABASE_CONFLICT_RETRY_MAX_SECONDS"
    )


def test_docker_compose_runs_beat_beside_the_workers():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    beat, worker = services["beat"], services["worker"]
    assert "celery -A config beat" in beat["command"]
    assert beat["environment"] == worker["environment"]  # the same broker and database
