"""b2b_health's progress checks: a live run whose progress is stale or was never synced, a run
whose last sync failed, and weekly digests that stopped going out."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from b2b.enums import EmailState, ProgressSyncState
from b2b.models import OrganizationManager, ProgressDigest, RunProgressSync
from b2b.services.health.report import health_report
from config.health_registry import HealthSeverity, moment_text
from tests.b2b.progress_sync_support import contract_run
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def progress_findings(contract_id=None):
    return [
        (x.check, x.severity, x.contract_id, x.subject, x.what)
        for x in health_report(contract_id=contract_id).findings
        if x.check.startswith("progress-")
    ]


@pytest.fixture
def stale_hours(settings, no_openedx):
    settings.B2B_PROGRESS_STALE_HOURS = 48
    return 48


def synced(run, *, hours_ago, state=ProgressSyncState.IDLE, **values):
    return RunProgressSync.objects.create(
        run=run,
        state=state,
        last_success_on=timezone.now() - timedelta(hours=hours_ago),
        **values,
    )


def test_a_live_run_synced_lately_is_healthy_and_a_stale_one_is_found(site_tree, stale_hours):
    fresh, stale = contract_run(tag="FRESH"), contract_run(tag="STALE")
    synced(fresh, hours_ago=47)
    state = synced(stale, hours_ago=49)
    assert progress_findings() == [
        (
            "progress-stale",
            HealthSeverity.WARNING,
            stale.b2b_contract_id,
            stale.courseware_id,
            f"progress of run {stale.courseware_id} last synced "
            f"{moment_text(state.last_success_on)}",
        )
    ]


def test_a_live_run_never_synced_is_found_once_started_long_enough(site_tree, stale_hours):
    contract_run(tag="JUST", started_days_ago=1)
    old = contract_run(tag="OLD", started_days_ago=3)
    contract_run(tag="ENDED", started_days_ago=400, ends_in_days=-100)  # not live
    assert progress_findings() == [
        (
            "progress-stale",
            HealthSeverity.WARNING,
            old.b2b_contract_id,
            old.courseware_id,
            f"progress of run {old.courseware_id} never synced "
            f"(started {moment_text(old.start_date)})",
        )
    ]


def test_a_run_whose_last_sync_failed_is_found_with_its_error(site_tree, stale_hours):
    run = contract_run(tag="FAILING", started_days_ago=400, ends_in_days=-100)  # not live
    synced(
        run,
        hours_ago=1,
        state=ProgressSyncState.FAILED,
        failures=3,
        last_error="Reading the grades: Open edX answered 503: down",
    )
    [finding] = [x for x in health_report().findings if x.check.startswith("progress-")]
    assert (finding.check, finding.subject, finding.what) == (
        "progress-sync-failed",
        run.courseware_id,
        f"the last progress sync of run {run.courseware_id} failed (3 time(s) in a row): "
        "Reading the grades: Open edX answered 503: down",
    )
    assert f"b2b_progress sync --run {run.courseware_id}" in finding.fix
    # A report of that contract alone finds it too.
    assert [x[0] for x in progress_findings(run.b2b_contract_id)] == ["progress-sync-failed"]


@pytest.fixture
def acme(site_tree):
    return f.OrganizationPageFactory(title="Acme")


def manager(organization, wants_digest=True):
    return OrganizationManager.objects.create(
        user=f.UserFactory(), organization=organization, wants_digest=wants_digest
    )


def digest(of, week_of, state, *, days_ago=None, error=""):
    return ProgressDigest.objects.create(
        manager=of,
        week_of=week_of,
        to=of.user.email,
        state=state,
        last_error=error,
        sent_on=timezone.now() - timedelta(days=days_ago) if days_ago is not None else None,
    )


def test_digests_that_stopped_going_out(acme, stale_hours):
    fine, failing, silent = manager(acme), manager(acme), manager(acme)
    opted_out = manager(acme, wants_digest=False)
    digest(fine, date(2026, 4, 6), EmailState.SENT, days_ago=2)
    digest(failing, date(2026, 3, 30), EmailState.SENT, days_ago=9)
    digest(failing, date(2026, 4, 6), EmailState.FAILED, error="SMTP 554 refused")
    last = digest(silent, date(2026, 3, 30), EmailState.SENT, days_ago=9)
    digest(opted_out, date(2026, 3, 30), EmailState.FAILED)

    assert progress_findings() == [
        (
            "progress-digest-stopped",
            HealthSeverity.WARNING,
            None,
            f"digest of {failing.user.email}",
            f"the latest progress digest to {failing.user.email} (Acme) failed: SMTP 554 refused",
        ),
        (
            "progress-digest-stopped",
            HealthSeverity.WARNING,
            None,
            f"digest of {silent.user.email}",
            f"no progress digest sent to {silent.user.email} (Acme) since "
            f"{moment_text(last.sent_on)}",
        ),
    ]


def test_the_progress_checks_read_two_queries_whatever_the_runs_and_managers(acme, stale_hours):
    def report_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            health_report()
        return len(queries)

    run = contract_run(tag="R0", started_days_ago=5)
    synced(run, hours_ago=100)
    digest(manager(acme), date(2026, 3, 30), EmailState.FAILED)
    few = report_queries()
    for n in range(1, 4):
        synced(contract_run(tag=f"R{n}", started_days_ago=5), hours_ago=100)
        digest(manager(acme), date(2026, 3, 30), EmailState.FAILED)
    assert report_queries() == few
    assert len(progress_findings()) == 8
