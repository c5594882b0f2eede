"""Studio copies of contract runs: scheduling, the copy itself, retries, a real worker."""

import pytest

from courses.enums import EdxCopyState
from courses.exceptions import OpenEdxRequestError, OpenEdxTransientError
from courses.services.edx_copy import copy_run_to_studio, schedule_run_copy
from courses.tasks import copy_run_to_studio_task, retry_countdown
from tests.courses.helpers import SCHEDULE, copy_state, make_contract_run, scheduled, source_of
from tests.support.openedx_server import RUN_CLONE, RUN_GET, RUN_UPDATE, TOKEN, Failure

pytestmark = pytest.mark.django_db


def test_schedule_without_settings_marks_the_run_not_configured(
    site_tree, no_openedx, django_capture_on_commit_callbacks
):
    run = make_contract_run()

    with django_capture_on_commit_callbacks() as callbacks:
        schedule_run_copy(run, source=source_of(run))

    run.refresh_from_db()
    assert (run.edx_copy_state, run.edx_copy_source) == (
        EdxCopyState.NOT_CONFIGURED,
        "course-v1:UAI_SOURCE+ML101+SOURCE",
    )
    assert run.edx_copy_error == (
        "Open edX is not configured: set OPENEDX_API_BASE_URL, OPENEDX_STUDIO_API_BASE_URL, "
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID, OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET"
    )
    assert callbacks == []


def test_scheduled_copy_clones_then_updates_after_commit(
    site_tree, studio, django_capture_on_commit_callbacks
):
    run = make_contract_run()

    with django_capture_on_commit_callbacks() as callbacks:
        schedule_run_copy(run, source=source_of(run))
        assert copy_state(run) == (EdxCopyState.PENDING, "", 0)
        assert studio.requests == []
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: the task runs eagerly here

    target = run.courseware_id
    assert copy_state(run) == (EdxCopyState.CREATED, "", 1)
    assert run.edx_copy_updated_on is not None
    assert studio.calls() == [
        ("POST", "/oauth2/access_token"),
        ("GET", f"/api/v1/course_runs/{target}/"),
        ("POST", "/api/v1/course_runs/clone/"),
        ("PUT", f"/api/v1/course_runs/{target}/"),
    ]
    token = studio.issued_tokens[0]
    assert [r.authorization for r in studio.requests[1:]] == [f"JWT {token}"] * 3
    assert studio.requests_to(RUN_CLONE)[0].body == {
        "source_course_id": "course-v1:UAI_SOURCE+ML101+SOURCE",
        "destination_course_id": target,
    }
    assert studio.requests_to(RUN_UPDATE)[0].body == {
        "title": "Machine learning",
        "pacing_type": "self_paced",
        "schedule": SCHEDULE,
    }
    copy = studio.studio_runs[target]
    assert (copy["title"], copy["pacing_type"], copy["schedule"]) == (
        "Machine learning",
        "self_paced",
        SCHEDULE,
    )


def test_run_already_in_studio_is_only_updated(site_tree, studio):
    run = scheduled(make_contract_run())
    studio.add_studio_run(run.courseware_id, title="Old title")

    assert copy_run_to_studio_task.delay(run.pk).get() == "created"

    assert copy_state(run) == (EdxCopyState.CREATED, "", 1)
    assert studio.calls(include_tokens=False) == [
        ("GET", f"/api/v1/course_runs/{run.courseware_id}/"),
        ("PUT", f"/api/v1/course_runs/{run.courseware_id}/"),
    ]
    assert studio.studio_runs[run.courseware_id]["title"] == "Machine learning"


def test_open_ended_run_gets_an_explicit_null_end(site_tree, studio):
    run = scheduled(make_contract_run(end=None))

    copy_run_to_studio(run.pk)

    assert studio.requests_to(RUN_UPDATE)[0].body["schedule"] == {
        "start": "2026-03-01T00:00:00+00:00",
        "end": None,
        "enrollment_start": "2026-03-01T00:00:00+00:00",
        "enrollment_end": None,
    }
    assert studio.studio_runs[run.courseware_id]["schedule"]["end"] is None
    assert copy_state(run) == (EdxCopyState.CREATED, "", 1)


def test_studio_refusing_a_null_end_is_recorded(site_tree, studio):
    """Stock Studio declares the end required; such a refusal is visible on the run."""
    studio.studio_rejects_null_end = True
    run = scheduled(make_contract_run(end=None))

    assert copy_run_to_studio_task.delay(run.pk).get() == "failed"

    assert copy_state(run) == (
        EdxCopyState.FAILED,
        f"Updating {run.courseware_id} in Studio: Open edX answered 400: "
        '{"schedule": {"end": ["This field may not be null."]}}',
        1,
    )


def test_server_error_then_success_leaves_exactly_one_run(site_tree, studio):
    run = scheduled(make_contract_run())
    studio.fail(RUN_CLONE, Failure(500, "<h1>Server Error (500)</h1>"))

    with pytest.raises(OpenEdxTransientError):
        copy_run_to_studio(run.pk, final_attempt=False)
    assert copy_state(run) == (
        EdxCopyState.PENDING,
        f"Copying course-v1:UAI_SOURCE+ML101+SOURCE to {run.courseware_id} in Studio: "
        "Open edX answered 500: <h1>Server Error (500)</h1> (will retry)",
        1,
    )

    copy_run_to_studio(run.pk, final_attempt=False)

    assert copy_state(run) == (EdxCopyState.CREATED, "", 2)
    assert [r.endpoint for r in studio.requests if r.endpoint != TOKEN] == [
        RUN_GET,
        RUN_CLONE,
        RUN_GET,
        RUN_CLONE,
        RUN_UPDATE,
    ]
    assert [key for key in studio.studio_runs if key == run.courseware_id] == [run.courseware_id]


def test_lost_answer_after_studio_cloned_is_not_cloned_twice(site_tree, studio):
    """Studio made the copy but the answer was a 502 from its proxy: the retry only updates."""
    run = scheduled(make_contract_run())
    studio.fail(RUN_CLONE, Failure(502, "Bad Gateway", apply=True))

    with pytest.raises(OpenEdxTransientError):
        copy_run_to_studio(run.pk, final_attempt=False)
    copy_run_to_studio(run.pk)

    assert copy_state(run) == (EdxCopyState.CREATED, "", 2)
    assert [r.endpoint for r in studio.requests if r.endpoint != TOKEN] == [
        RUN_GET,
        RUN_CLONE,
        RUN_GET,
        RUN_UPDATE,
    ]


def test_clone_refused_because_the_copy_appeared_meanwhile_goes_on(site_tree, studio):
    run = scheduled(make_contract_run())
    # Between our GET and our clone, another attempt made the run.
    studio.fail(RUN_GET, Failure(404, {"detail": "Not found."}))
    studio.add_studio_run(run.courseware_id)

    copy_run_to_studio(run.pk)

    assert copy_state(run) == (EdxCopyState.CREATED, "", 1)
    assert [r.endpoint for r in studio.requests if r.endpoint != TOKEN] == [
        RUN_GET,
        RUN_CLONE,
        RUN_GET,
        RUN_UPDATE,
    ]


def test_bad_request_fails_at_once(site_tree, openedx_server):
    """The source run is not in Studio: 400, recorded, not retried."""
    run = scheduled(make_contract_run())

    assert copy_run_to_studio_task.delay(run.pk).get() == "failed"

    state, error, attempts = copy_state(run)
    assert (state, attempts) == (EdxCopyState.FAILED, 1)
    assert error == (
        f"Copying course-v1:UAI_SOURCE+ML101+SOURCE to {run.courseware_id} in Studio: "
        'Open edX answered 400: {"non_field_errors": ["Source course does not exist."]}'
    )
    assert len(openedx_server.requests_to(RUN_CLONE)) == 1
    with pytest.raises(OpenEdxRequestError):
        copy_run_to_studio(run.pk, final_attempt=False)
    assert copy_state(run)[0] == EdxCopyState.FAILED


def test_timeout_is_recorded_and_the_next_attempt_finishes(site_tree, studio, settings):
    settings.OPENEDX_REQUEST_TIMEOUT = 0.5
    run = scheduled(make_contract_run())
    studio.fail(RUN_CLONE, Failure(delay=1.5))  # Studio clones, but answers too late

    assert copy_run_to_studio_task.delay(run.pk).get() == "failed"
    assert copy_state(run) == (
        EdxCopyState.FAILED,
        f"Copying course-v1:UAI_SOURCE+ML101+SOURCE to {run.courseware_id} in Studio: "
        "Open edX did not answer within 0.5 seconds",
        1,
    )

    assert copy_run_to_studio_task.delay(run.pk).get() == "created"
    assert copy_state(run) == (EdxCopyState.CREATED, "", 2)
    assert len(studio.requests_to(RUN_CLONE)) == 1


def test_malformed_token_answer_fails_the_copy(site_tree, studio):
    run = scheduled(make_contract_run())
    studio.fail(TOKEN, Failure(200, {"error": "temporarily_unavailable"}))

    assert copy_run_to_studio_task.delay(run.pk).get() == "failed"

    assert copy_state(run) == (
        EdxCopyState.FAILED,
        "Getting an Open edX access token: the answer has no usable access_token: "
        '{"error": "temporarily_unavailable"}',
        1,
    )
    assert studio.calls() == [("POST", "/oauth2/access_token")]


def test_expired_token_is_renewed_during_a_copy(site_tree, studio):
    first = scheduled(make_contract_run(number="ML101"))
    copy_run_to_studio(first.pk)
    studio.expire_tokens()
    studio.requests.clear()

    copy_run_to_studio(first.pk)

    old, new = studio.issued_tokens
    assert [(r.endpoint, r.authorization) for r in studio.requests] == [
        (RUN_GET, f"JWT {old}"),
        (TOKEN, None),
        (RUN_GET, f"JWT {new}"),
        (RUN_UPDATE, f"JWT {new}"),
    ]
    assert copy_state(first) == (EdxCopyState.CREATED, "", 2)


def test_failing_open_edx_does_not_break_the_committing_caller(
    site_tree, studio, django_capture_on_commit_callbacks
):
    run = make_contract_run()
    studio.fail(RUN_GET, Failure(503, "upstream connect error"))

    with django_capture_on_commit_callbacks(execute=True):
        schedule_run_copy(run, source=source_of(run))

    assert copy_state(run) == (
        EdxCopyState.FAILED,
        f"Reading {run.courseware_id} in Studio: Open edX answered 503: upstream connect error",
        1,
    )


def test_copy_without_settings_is_not_configured_and_not_retried(site_tree, no_openedx):
    run = scheduled(make_contract_run())

    assert copy_run_to_studio_task.delay(run.pk).get() == "not_configured"

    state, error, attempts = copy_state(run)
    assert (state, attempts) == (EdxCopyState.NOT_CONFIGURED, 0)
    assert error.startswith("Open edX is not configured: set OPENEDX_API_BASE_URL")


def test_task_skips_runs_without_a_copy_to_make(site_tree, studio):
    run = make_contract_run()

    assert copy_run_to_studio_task.delay(run.pk).get() == "skipped"
    assert copy_run_to_studio_task.delay(999_999).get() == "skipped"
    assert studio.requests == []


def test_retry_countdown_doubles_up_to_the_cap(settings):
    settings.OPENEDX_RETRY_BACKOFF_SECONDS = 30
    settings.OPENEDX_RETRY_BACKOFF_MAX_SECONDS = 300
    assert [retry_countdown(n) for n in range(6)] == [30, 60, 120, 240, 300, 300]


# --- through a real worker -------------------------------------------------------------------


@pytest.fixture
def celery_worker_env(openedx_server):
    """The worker reads its Open edX settings from its environment: point it at the fake."""
    return {
        "OPENEDX_API_BASE_URL": openedx_server.lms_url,
        "OPENEDX_STUDIO_API_BASE_URL": openedx_server.studio_url,
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID": openedx_server.client_id,
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET": openedx_server.client_secret,
        "OPENEDX_REQUEST_TIMEOUT": "5",
        "OPENEDX_RETRY_BACKOFF_SECONDS": "1",
    }


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_retries_a_server_error_then_creates_the_copy(
    site_tree, studio, celery_worker_process
):
    run = scheduled(make_contract_run())
    studio.fail(RUN_CLONE, Failure(500, "<h1>Server Error (500)</h1>"))

    result = celery_worker_process.send_task("courses.copy_run_to_studio", args=[run.pk])

    assert result.get(timeout=60) == "created"
    assert copy_state(run) == (EdxCopyState.CREATED, "", 2)
    assert [r.endpoint for r in studio.requests] == [
        TOKEN,
        RUN_GET,
        RUN_CLONE,  # 500
        RUN_GET,
        RUN_CLONE,
        RUN_UPDATE,
    ]
    assert list(studio.studio_runs) == ["course-v1:UAI_SOURCE+ML101+SOURCE", run.courseware_id]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_does_not_retry_a_bad_request(site_tree, openedx_server, celery_worker_process):
    run = scheduled(make_contract_run())  # its source is not in Studio: 400

    result = celery_worker_process.send_task("courses.copy_run_to_studio", args=[run.pk])

    assert result.get(timeout=60) == "failed"
    state, error, attempts = copy_state(run)
    assert (state, attempts) == (EdxCopyState.FAILED, 1)
    assert error.endswith('{"non_field_errors": ["Source course does not exist."]}')
    # The refusal is checked against Studio once (did another attempt make the run?), and
    # that is all: no retry.
    assert [r.endpoint for r in openedx_server.requests] == [TOKEN, RUN_GET, RUN_CLONE, RUN_GET]
