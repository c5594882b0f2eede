"""The periodic work: Celery beat's one schedule of every periodic task, the broker's
visibility timeout, and the docker-compose topology that runs beat. Each settings case runs a
fresh interpreter with its own environment."""

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
def when(schedule):
    if hasattr(schedule, "total_seconds"):
        return {"seconds": schedule.total_seconds()}
    return {"crontab": f"{schedule._orig_minute} {schedule._orig_hour} * * *"}
print(json.dumps({
    "schedule": {
        name: {"task": entry["task"], **when(entry["schedule"])}
        for name, entry in app.conf.beat_schedule.items()
    },
    "transport": app.conf.broker_transport_options,
    "registered": sorted(name for name in app.tasks if not name.startswith("celery.")),
}))
"""
SWEEPS = {
    "b2b.requeue_pending_codes",
    "courses.requeue_stuck_edx_copies",
    "b2b.requeue_invitation_work",
    "b2b.requeue_progress_nudges",
    "b2b.requeue_progress_digests",
}


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


DEFAULT_SCHEDULE = {
    "requeue-pending-codes": {"task": "b2b.requeue_pending_codes", "seconds": 300.0},
    "requeue-stuck-edx-copies": {"task": "courses.requeue_stuck_edx_copies", "seconds": 300.0},
    "requeue-invitation-work": {"task": "b2b.requeue_invitation_work", "seconds": 300.0},
    "b2b-health-report": {"task": "b2b.health_report", "seconds": 3600.0},
    "contract-alerts": {"task": "b2b.check_contract_alerts", "seconds": 3600.0},
    "send-invitation-reminders": {"task": "b2b.send_invitation_reminders", "seconds": 3600.0},
    "publish-scheduled-pages": {"task": "cms.publish_scheduled", "seconds": 60.0},
    # nightly, at B2B_PROGRESS_SYNC_HOUR
    "sync-live-progress": {"task": "b2b.sync_live_progress", "crontab": "0 2 * * *"},
    "nudge-flagged-learners": {"task": "b2b.nudge_flagged_learners", "seconds": 86400.0},
    "requeue-progress-nudges": {"task": "b2b.requeue_progress_nudges", "seconds": 300.0},
    "send-progress-digests": {"task": "b2b.send_progress_digests", "seconds": 3600.0},
    "requeue-progress-digests": {"task": "b2b.requeue_progress_digests", "seconds": 300.0},
}


def test_beat_holds_every_periodic_task_with_its_default_interval():
    result = _run()
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["schedule"] == DEFAULT_SCHEDULE
    # every task beat names is one a worker has
    assert set(values["registered"]) >= {entry["task"] for entry in DEFAULT_SCHEDULE.values()}
    assert values["transport"] == {"visibility_timeout": 1200}


def test_each_interval_and_the_visibility_timeout_come_from_the_environment():
    result = _run(
        PENDING_SWEEP_INTERVAL_SECONDS="45",
        B2B_HEALTH_INTERVAL_SECONDS="46",
        B2B_ALERT_CHECK_INTERVAL_SECONDS="47",
        B2B_INVITATION_SWEEP_INTERVAL_SECONDS="48",
        WAGTAIL_PUBLISH_SCHEDULED_INTERVAL_SECONDS="49",
        B2B_PROGRESS_AUTO_NUDGE_INTERVAL_SECONDS="50",
        B2B_PROGRESS_DIGEST_CHECK_SECONDS="51",
        CELERY_VISIBILITY_TIMEOUT_SECONDS="1000",
        B2B_PROGRESS_SYNC_HOUR="5",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    nightly = values["schedule"].pop("sync-live-progress")
    assert nightly == {"task": "b2b.sync_live_progress", "crontab": "0 5 * * *"}
    seconds = {name: entry["seconds"] for name, entry in values["schedule"].items()}
    assert seconds == {
        "requeue-pending-codes": 45.0,
        "requeue-stuck-edx-copies": 45.0,
        "requeue-invitation-work": 45.0,
        "b2b-health-report": 46.0,
        "contract-alerts": 47.0,
        "send-invitation-reminders": 48.0,
        "publish-scheduled-pages": 49.0,
        "nudge-flagged-learners": 50.0,
        "requeue-progress-nudges": 45.0,
        "send-progress-digests": 51.0,
        "requeue-progress-digests": 45.0,
    }
    assert {entry["task"] for entry in values["schedule"].values()} >= SWEEPS
    assert values["transport"] == {"visibility_timeout": 1000}


def test_a_visibility_timeout_shorter_than_a_retry_wait_is_refused():
    result = _run(CELERY_VISIBILITY_TIMEOUT_SECONDS="600")  # Open edX retries wait up to 900 s
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: CELERY_VISIBILITY_TIMEOUT_SECONDS must be "
        "longer than OPENEDX_RETRY_BACKOFF_MAX_SECONDS, DATABASE_CONFLICT_RETRY_MAX_SECONDS and "
        "B2B_EMAIL_RETRY_MAX_SECONDS"
    )


def test_an_invite_job_stale_time_the_broker_redelivery_would_not_pass_is_refused():
    result = _run(B2B_INVITE_JOB_STALE_SECONDS="1200")  # the visibility timeout is 1200 s
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: B2B_INVITE_JOB_STALE_SECONDS must be "
        "shorter than CELERY_VISIBILITY_TIMEOUT_SECONDS"
    )


def test_docker_compose_runs_beat_beside_the_workers():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    beat, worker = services["beat"], services["worker"]
    assert "celery -A config beat" in beat["command"]
    assert beat["environment"] == worker["environment"]  # the same broker and database
