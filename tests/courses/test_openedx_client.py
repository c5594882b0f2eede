"""courses.openedx against the fake Open edX: tokens, headers, bodies, errors."""

import socket
from datetime import UTC, datetime

import pytest

from courses import openedx
from courses.exceptions import (
    OpenEdxNotConfigured,
    OpenEdxNotFound,
    OpenEdxRequestError,
    OpenEdxThrottled,
    OpenEdxTransientError,
)
from tests.support.openedx_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    COURSE_DETAIL,
    ENROLLMENT,
    RUN_GET,
    RUN_UPDATE,
    TOKEN,
    Failure,
)

SOURCE = "course-v1:UAI_SOURCE+ML101+SOURCE"
TARGET = "course-v1:UAI_ACME+ML101+2026_C7"
TOKEN_FORM = {
    "grant_type": "client_credentials",
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "token_type": "jwt",
}


def test_token_is_fetched_once_and_sent_as_jwt(openedx_server):
    openedx_server.add_studio_run(SOURCE, title="Machine learning")

    first = openedx.get_studio_course_run(SOURCE)
    second = openedx.get_studio_course_run(SOURCE)

    assert (first.course_id, first.title, second.title) == (
        SOURCE,
        "Machine learning",
        "Machine learning",
    )
    assert first.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert openedx_server.calls() == [
        ("POST", "/oauth2/access_token"),
        ("GET", f"/api/v1/course_runs/{SOURCE}/"),
        ("GET", f"/api/v1/course_runs/{SOURCE}/"),
    ]
    token_request = openedx_server.requests[0]
    assert token_request.service == "lms"
    assert token_request.body == TOKEN_FORM
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    [token] = openedx_server.issued_tokens
    assert [r.service for r in openedx_server.requests[1:]] == ["studio", "studio"]
    assert [r.authorization for r in openedx_server.requests[1:]] == [f"JWT {token}"] * 2


def test_missing_studio_run_is_none(openedx_server):
    assert openedx.get_studio_course_run(TARGET) is None
    assert openedx_server.requests[-1].path == f"/api/v1/course_runs/{TARGET}/"


def test_expired_token_is_renewed_and_the_call_retried_once(openedx_server):
    openedx_server.add_studio_run(SOURCE)
    openedx.get_studio_course_run(SOURCE)
    openedx_server.expire_tokens()

    run = openedx.get_studio_course_run(SOURCE)

    assert run.course_id == SOURCE
    old, new = openedx_server.issued_tokens
    assert [(r.method, r.endpoint, r.authorization) for r in openedx_server.requests] == [
        ("POST", TOKEN, None),
        ("GET", RUN_GET, f"JWT {old}"),
        ("GET", RUN_GET, f"JWT {old}"),
        ("POST", TOKEN, None),
        ("GET", RUN_GET, f"JWT {new}"),
    ]


def test_a_second_401_is_not_retried_again(openedx_server):
    openedx_server.fail(
        RUN_GET,
        Failure(401, {"detail": "Signature has expired."}),
        Failure(401, {"detail": "User is not staff."}),
    )

    with pytest.raises(OpenEdxRequestError) as caught:
        openedx.get_studio_course_run(SOURCE)

    assert caught.value.status_code == 401
    assert str(caught.value) == (
        f'Reading {SOURCE} in Studio: Open edX answered 401: {{"detail": "User is not staff."}}'
    )
    assert [r.endpoint for r in openedx_server.requests] == [TOKEN, RUN_GET, TOKEN, RUN_GET]


def test_token_is_renewed_shortly_before_it_expires(openedx_server, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(openedx, "_monotonic", lambda: clock[0])
    openedx_server.add_studio_run(SOURCE)

    openedx.get_studio_course_run(SOURCE)
    clock[0] += 3600 - 61  # 61 s before expiry: still good
    openedx.get_studio_course_run(SOURCE)
    clock[0] += 2  # within the last minute: renewed
    openedx.get_studio_course_run(SOURCE)

    assert [r.endpoint for r in openedx_server.requests] == [
        TOKEN,
        RUN_GET,
        RUN_GET,
        TOKEN,
        RUN_GET,
    ]
    assert openedx_server.requests[-1].authorization == f"JWT {openedx_server.issued_tokens[1]}"


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>Sign in</body></html>",
        {"token_type": "JWT", "expires_in": 3600},
        {"access_token": "", "expires_in": 3600},
        {"access_token": "abc", "expires_in": "soon"},
    ],
    ids=["html", "no-access-token", "empty-access-token", "bad-expires-in"],
)
def test_malformed_token_answer_is_a_request_error(openedx_server, body):
    openedx_server.fail(TOKEN, Failure(200, body))

    with pytest.raises(OpenEdxRequestError) as caught:
        openedx.get_studio_course_run(SOURCE)

    assert str(caught.value).startswith(
        "Getting an Open edX access token: the answer has no usable access_token: "
    )
    assert openedx_server.calls() == [("POST", "/oauth2/access_token")]


def test_wrong_credentials_are_a_request_error(openedx_server, settings):
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET = "wrong"

    with pytest.raises(OpenEdxRequestError) as caught:
        openedx.get_studio_course_run(SOURCE)

    assert str(caught.value) == (
        "Getting an Open edX access token: Open edX refused the service account's credentials "
        '(401): {"error": "invalid_client"}'
    )


def test_token_endpoint_outage_is_transient(openedx_server):
    openedx_server.fail(TOKEN, Failure(503, "<html>Service Unavailable</html>"))

    with pytest.raises(OpenEdxTransientError) as caught:
        openedx.get_studio_course_run(SOURCE)

    assert str(caught.value) == (
        "Getting an Open edX access token: Open edX answered 503: <html>Service Unavailable</html>"
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, OpenEdxThrottled),  # an OpenEdxTransientError with its Retry-After
        (500, OpenEdxTransientError),
        (502, OpenEdxTransientError),
        (504, OpenEdxTransientError),
        (400, OpenEdxRequestError),
        (403, OpenEdxRequestError),
        (404, OpenEdxNotFound),
    ],
)
def test_status_codes_map_to_domain_errors(openedx_server, status, error):
    openedx_server.add_studio_run(TARGET)
    openedx_server.fail(RUN_UPDATE, Failure(status, {"detail": f"status {status}"}))

    with pytest.raises(error) as caught:
        openedx.update_studio_course_run(
            courseware_id=TARGET,
            title="T",
            self_paced=True,
            start=None,
            end=None,
            enrollment_start=None,
            enrollment_end=None,
        )

    assert type(caught.value) is error
    assert str(caught.value) == (
        f'Updating {TARGET} in Studio: Open edX answered {status}: {{"detail": "status {status}"}}'
    )


def test_timeout_is_transient(openedx_server, settings):
    settings.OPENEDX_REQUEST_TIMEOUT = 0.5
    openedx_server.add_studio_run(SOURCE)
    openedx_server.fail(RUN_GET, Failure(delay=1.5))

    with pytest.raises(OpenEdxTransientError) as caught:
        openedx.get_studio_course_run(SOURCE)

    assert str(caught.value) == (
        f"Reading {SOURCE} in Studio: Open edX did not answer within 0.5 seconds"
    )


def test_unreachable_open_edx_is_transient(openedx_server, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.OPENEDX_API_BASE_URL = f"http://127.0.0.1:{port}/"

    with pytest.raises(OpenEdxTransientError) as caught:
        openedx.get_studio_course_run(SOURCE)

    assert str(caught.value).startswith(
        "Getting an Open edX access token: cannot reach Open edX (ConnectionError: "
    )


def test_missing_settings_are_named(settings):
    settings.OPENEDX_API_BASE_URL = "https://lms.example.edu/"
    settings.OPENEDX_STUDIO_API_BASE_URL = "https://studio.example.edu/"
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID = None
    settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET = ""

    assert openedx.is_configured() is False
    with pytest.raises(OpenEdxNotConfigured) as caught:
        openedx.get_studio_course_run(SOURCE)

    assert str(caught.value) == (
        "Open edX is not configured: set OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID, "
        "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET"
    )


def test_clone_then_update_with_an_open_end(openedx_server):
    openedx_server.add_studio_run(SOURCE, title="Machine learning")
    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    openedx.clone_studio_course_run(source_id=SOURCE, target_id=TARGET)
    updated = openedx.update_studio_course_run(
        courseware_id=TARGET,
        title="Machine learning (ACME)",
        self_paced=True,
        start=start,
        end=None,
        enrollment_start=start,
        enrollment_end=None,
    )

    clone, update = openedx_server.requests[1:]
    assert (clone.method, clone.path, clone.body) == (
        "POST",
        "/api/v1/course_runs/clone/",
        {"source_course_id": SOURCE, "destination_course_id": TARGET},
    )
    assert (update.method, update.path, update.body) == (
        "PUT",
        f"/api/v1/course_runs/{TARGET}/",
        {
            "title": "Machine learning (ACME)",
            "pacing_type": "self_paced",
            "schedule": {
                "start": "2026-03-01T09:30:00+00:00",
                "end": None,
                "enrollment_start": "2026-03-01T09:30:00+00:00",
                "enrollment_end": None,
            },
        },
    )
    assert update.authorization == f"JWT {openedx_server.issued_tokens[0]}"
    assert (updated.course_id, updated.title, updated.pacing_type) == (
        TARGET,
        "Machine learning (ACME)",
        "self_paced",
    )
    assert updated.start == start and updated.end is None
    assert openedx_server.studio_runs[SOURCE]["title"] == "Machine learning"


def test_clone_onto_an_existing_run_is_a_request_error(openedx_server):
    openedx_server.add_studio_run(SOURCE)
    openedx_server.add_studio_run(TARGET)

    with pytest.raises(OpenEdxRequestError) as caught:
        openedx.clone_studio_course_run(source_id=SOURCE, target_id=TARGET)

    assert caught.value.status_code == 400
    assert "Destination course already exists." in str(caught.value)


def test_create_enrollment(openedx_server):
    openedx_server.add_studio_run(TARGET)
    openedx_server.add_user("ada@example.com", "ada")

    enrollment = openedx.create_enrollment(
        email="ada@example.com", courseware_id=TARGET, mode="verified"
    )

    [_, request] = openedx_server.requests
    assert (request.service, request.method, request.path) == (
        "lms",
        "POST",
        "/api/enrollment/v1/enrollment",
    )
    assert request.authorization == f"JWT {openedx_server.issued_tokens[0]}"
    assert request.body == {
        "email": "ada@example.com",
        "mode": "verified",
        "is_active": True,
        "course_details": {"course_id": TARGET},
        "force_enrollment": True,
    }
    assert (enrollment.user, enrollment.course_id, enrollment.mode, enrollment.is_active) == (
        "ada",
        TARGET,
        "verified",
        True,
    )
    assert openedx_server.enrollments[("ada", TARGET)]["mode"] == "verified"


def test_enrollment_of_an_unknown_learner_is_a_request_error(openedx_server):
    openedx_server.add_studio_run(TARGET)

    with pytest.raises(OpenEdxRequestError) as caught:
        openedx.create_enrollment(email="nobody@example.com", courseware_id=TARGET, mode="audit")

    assert caught.value.status_code == 406
    assert [r.endpoint for r in openedx_server.requests] == [TOKEN, ENROLLMENT]


def test_course_detail(openedx_server):
    openedx_server.add_lms_course(
        SOURCE, name="Machine learning", start="2026-01-05T00:00:00Z", pacing="self"
    )

    detail = openedx.get_course_detail(SOURCE)

    assert (detail.course_id, detail.name, detail.start, detail.end, detail.is_self_paced()) == (
        SOURCE,
        "Machine learning",
        datetime(2026, 1, 5, tzinfo=UTC),
        None,
        True,
    )
    request = openedx_server.requests_to(COURSE_DETAIL)[0]
    assert (request.path, request.authorization) == (
        f"/api/courses/v1/courses/{SOURCE}",
        f"JWT {openedx_server.issued_tokens[0]}",
    )
    with pytest.raises(OpenEdxNotFound):
        openedx.get_course_detail(TARGET)
