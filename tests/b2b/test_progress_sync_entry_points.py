"""The progress sync's entry points: which runs are live (the window's edges), the tasks and the
nightly beat entry (one task queued per run), and ``manage.py b2b_progress sync``'s output,
progress lines and errors."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management.base import CommandError
from django.utils import timezone

from b2b.models import LearnerProgress, RunProgressSync
from b2b.selectors.progress_sync import live_runs
from b2b.services.progress.sync import SYNC_CONTRACT_TASK, SYNC_LIVE_TASK, SYNC_RUN_TASK
from b2b.tasks import sync_contract_progress_task, sync_live_progress_task, sync_run_progress_task
from tests.b2b.progress_sync_support import contract_run
from tests.support import factories as f
from tests.support.openedx_server import COURSE_GRADES, Failure, Learner

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def window_run(tag, *, start, end):
    return f.CourseRunFactory(
        b2b_contract=f.ContractPageFactory(), run_tag=tag, start_date=start, end_date=end
    )


def test_the_live_window_at_its_edges(site_tree, settings):
    settings.B2B_PROGRESS_DAYS_AFTER_END = 31
    second, after = timedelta(seconds=1), timedelta(days=31)
    live = [
        window_run("STARTS_NOW", start=NOW, end=NOW + after),
        window_run("LAST_DAY", start=NOW - 2 * after, end=NOW - after),
        window_run("NO_END", start=NOW - after, end=None),
    ]
    window_run("NOT_YET", start=NOW + second, end=NOW + after)
    window_run("OVER", start=NOW - 2 * after, end=NOW - after - second)
    window_run("NO_START", start=None, end=NOW + after)
    f.CourseRunFactory(run_tag="NOT_A_CONTRACT_RUN", start_date=NOW - after, end_date=None)

    assert list(live_runs(NOW)) == live


def queued(callbacks):
    """The (task name, arguments) sent by ``queue_after_commit``'s callbacks."""
    return [(c.args[0], c.args[1]) for c in callbacks]


def test_the_nightly_task_queues_one_sync_per_live_run(
    site_tree, django_capture_on_commit_callbacks
):
    runs = [contract_run(tag=f"R{n}") for n in range(3)]
    contract_run(tag="ENDED", started_days_ago=400, ends_in_days=-100)
    with django_capture_on_commit_callbacks() as callbacks:
        assert sync_live_progress_task() == [run.pk for run in runs]
    assert queued(callbacks) == [(SYNC_RUN_TASK, (run.pk,)) for run in runs]
    schedule = django_settings.CELERY_BEAT_SCHEDULE["sync-live-progress"]
    assert schedule["task"] == SYNC_LIVE_TASK


def test_the_contract_task_queues_one_sync_per_run_of_the_contract(
    site_tree, django_capture_on_commit_callbacks
):
    contract = f.ContractPageFactory()
    runs = [contract_run(contract, tag="A"), contract_run(contract, tag="B", started_days_ago=-5)]
    contract_run(tag="OTHER")
    with django_capture_on_commit_callbacks() as callbacks:
        sync_contract_progress_task(contract.pk)
    assert SYNC_CONTRACT_TASK == "b2b.sync_contract_progress"
    assert queued(callbacks) == [(SYNC_RUN_TASK, (run.pk,)) for run in runs]


def test_the_run_task_syncs_its_run(site_tree, openedx_server):
    run = contract_run()
    openedx_server.load_learners(run.courseware_id, [Learner("ada", percent=0.4)])
    assert sync_run_progress_task(run.pk) == {
        "run_id": run.pk,
        "outcome": "synced",
        "learners": 1,
        "written": 2,
        "unmapped": 1,
        "error": "",
    }
    not_a_contract_run = f.CourseRunFactory()
    assert sync_run_progress_task(not_a_contract_run.pk) == {
        "run_id": not_a_contract_run.pk,
        "skipped": True,
    }


# --- the command -------------------------------------------------------------------------------


@pytest.fixture
def two_runs(site_tree, openedx_server, settings):
    settings.B2B_PROGRESS_SYNC_ATTEMPTS = 1
    contract = f.ContractPageFactory()
    first, second = contract_run(contract, tag="A"), contract_run(contract, tag="B")
    openedx_server.load_learners(first.courseware_id, [Learner("ada"), Learner("bob")])
    openedx_server.load_learners(second.courseware_id, [Learner("cy", percent=0.5)])
    return contract, first, second


def test_sync_of_a_contract_prints_a_summary_per_run(run_command, two_runs, capsys, settings):
    settings.B2B_PROGRESS_LINE_SECONDS = 0
    contract, first, second = two_runs

    out, _ = run_command("b2b_progress", "sync", "--contract", str(contract.pk))

    assert out.splitlines() == [
        f"{first.courseware_id}: 2 learners, 4 written, 2 unmapped",
        f"{second.courseware_id}: 1 learners, 2 written, 1 unmapped",
    ]
    # Off a terminal, the progress is plain lines on stderr.
    assert capsys.readouterr().err.splitlines() == [
        f"{first.courseware_id} enrollments: 1/1",
        f"{first.courseware_id} grades: 1/1",
        f"{second.courseware_id} enrollments: 1/1",
        f"{second.courseware_id} grades: 1/1",
    ]


def test_a_dry_run_of_one_run_writes_nothing(run_command, two_runs):
    _, first, _ = two_runs
    out, _ = run_command("b2b_progress", "sync", "--run", first.courseware_id, "--dry-run")
    assert out == f"{first.courseware_id}: dry run, 2 learners, 4 would write, 2 unmapped\n"
    assert not LearnerProgress.objects.exists()
    assert not RunProgressSync.objects.exists()


def test_without_options_the_live_runs_are_synced(run_command, two_runs):
    _, first, second = two_runs
    out, _ = run_command("b2b_progress", "sync")
    assert [line.rsplit(": ", 1)[0] for line in out.splitlines()] == [
        first.courseware_id,
        second.courseware_id,
    ]


def test_a_failed_run_is_reported_and_the_command_fails(run_command, two_runs, openedx_server):
    contract, first, second = two_runs
    openedx_server.fail(COURSE_GRADES, Failure(500, "<h1>Server Error (500)</h1>"))

    with pytest.raises(CommandError, match=r"^1 of 2 run\(s\) failed \(see above\)$"):
        run_command("b2b_progress", "sync", "--contract", str(contract.pk))

    state = RunProgressSync.objects.get(pk=first.pk)
    assert state.last_error == (
        f"Reading the grades of {first.courseware_id}: Open edX answered 500: "
        "<h1>Server Error (500)</h1>"
    )
    assert RunProgressSync.objects.get(pk=second.pk).last_success_on is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contract", "999999"], "No contract with id 999999"),
        (["--run", "course-v1:NOPE+X+Y"], "No course run course-v1:NOPE+X+Y"),
        (["--contract", "abc"], "argument --contract: not an id: 'abc'"),
        (["--contract", "1", "--run", "K"], "not allowed with argument"),
    ],
)
def test_bad_input_is_one_line(run_command, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace("+", r"\+")):
        run_command("b2b_progress", "sync", *args)


def test_a_run_that_is_not_a_contract_run_is_refused(run_command):
    run = f.CourseRunFactory()
    with pytest.raises(CommandError) as caught:
        run_command("b2b_progress", "sync", "--run", run.courseware_id)
    assert str(caught.value) == (
        f"Run {run.courseware_id} is not a contract run: it has no progress"
    )
