"""The one module that talks to Open edX.

Everything goes through edx-api-client (``edx_api``) with an OAuth2 client-credentials JWT of the
service account (``OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID/SECRET``). This module wraps the
library's quirks so that callers only see plain calls and the domain exceptions of
``courses.exceptions``:

- The library never fetches tokens; ``EdxApi`` must be given one. We obtain it from the LMS
  (``oauth2/access_token``, ``token_type=jwt``), cache it per process until shortly before it
  expires, and when Open edX answers 401 we fetch a new one and try the call once more.
- The library's Studio client needs a base URL that ends with a slash; ours are normalised.
- Only the Studio client sends the ``JWT`` authorization prefix; the LMS clients would send
  ``Bearer``, which the LMS reads as an opaque token and refuses for a JWT. We build every
  client from one requester that sends ``JWT <token>``.
- ``clone_course_run`` returns the raw ``requests`` response; library errors are
  ``CourseRunAPIError`` (Studio) or ``requests.HTTPError`` (LMS); network problems surface as
  raw ``requests`` exceptions. All of them become ``OpenEdxTransientError`` (connection errors,
  timeouts, 429, 5xx) or ``OpenEdxRequestError`` (other 4xx, unusable answers).
- ``update_course_run`` refuses a start without an end (an open-ended run) and joins its URL with
  a double slash, so the update is sent here, with the library's requester and URL constant.
- ``create_student_enrollment`` only identifies learners by Open edX username, which this site
  does not store; the LMS also accepts the learner's email from a staff caller, so the
  enrollment is posted here, to the library's enrollment URL.
- The LMS clients join absolute paths (``/api/...``): the LMS must live at the root of its host.
- The progress sync reads one page at a time (``enrollments_page``, ``course_grades_page``,
  ``certificate_of``), so that its caller can store where it is after each page and retry one
  page, not the whole list: the library's list calls (``get_enrollments``,
  ``get_course_current_grades``) load every page in one go and cannot resume. The pages are
  read with the library's requester, its enrollment list URL and its answer models; the grades
  and certificates URLs are not constants of the library, so they are here. A 429 becomes
  ``OpenEdxThrottled``, which carries the answer's Retry-After as ``wait_seconds``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import requests
from django.conf import settings
from edx_api.certificates.models import Certificate
from edx_api.client import EdxApi
from edx_api.course_detail import CourseDetails
from edx_api.course_detail.models import CourseDetail
from edx_api.course_runs import CourseRuns
from edx_api.course_runs.exceptions import CourseRunAPIError
from edx_api.course_runs.models import CourseRun as StudioCourseRun
from edx_api.enrollments import CourseEnrollments
from edx_api.enrollments.models import Enrollment
from edx_api.grades.models import CurrentGrade

from courses.exceptions import (
    OpenEdxError,
    OpenEdxNotConfigured,
    OpenEdxNotFound,
    OpenEdxRequestError,
    OpenEdxThrottled,
    OpenEdxTransientError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

TOKEN_PATH = "oauth2/access_token"
# A cached token is renewed this many seconds before Open edX says it expires (at most half of
# its lifetime), so that a call never starts with a token about to lapse.
TOKEN_RENEWAL_MARGIN = 60
# How much of an error body is kept in messages (and so on the run or enrollment).
BODY_EXCERPT = 500

_SETTING_NAMES = (
    "OPENEDX_API_BASE_URL",
    "OPENEDX_STUDIO_API_BASE_URL",
    "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID",
    "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET",
)


@dataclass(frozen=True)
class OpenEdxConfig:
    lms_base_url: str
    studio_base_url: str
    client_id: str
    client_secret: str
    timeout: float


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else f"{url}/"


def missing_settings() -> list[str]:
    """The names of the Open edX settings that are not set."""
    return [name for name in _SETTING_NAMES if not getattr(settings, name, None)]


def is_configured() -> bool:
    return not missing_settings()


def failure_outcome(exc: OpenEdxError, *, final_attempt: bool) -> tuple[bool, str]:
    """For a failed call: whether another attempt will follow (transient errors only, while
    attempts remain), and the error to record on the row."""
    retrying = isinstance(exc, OpenEdxTransientError) and not final_attempt
    return retrying, f"{exc} (will retry)" if retrying else str(exc)


def not_configured_message() -> str:
    return f"Open edX is not configured: set {', '.join(missing_settings())}"


def get_config() -> OpenEdxConfig:
    if missing_settings():
        raise OpenEdxNotConfigured(not_configured_message())
    # missing_settings() found none unset, so every value below is a non-empty string.
    return OpenEdxConfig(
        lms_base_url=_with_slash(str(settings.OPENEDX_API_BASE_URL)),
        studio_base_url=_with_slash(str(settings.OPENEDX_STUDIO_API_BASE_URL)),
        client_id=str(settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID),
        client_secret=str(settings.OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET),
        timeout=settings.OPENEDX_REQUEST_TIMEOUT,
    )


# --- Tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float  # on the _monotonic() clock


_tokens: dict[tuple[str, str], _Token] = {}
_tokens_lock = threading.Lock()


def _monotonic() -> float:
    return time.monotonic()


def clear_token_cache() -> None:
    """Forget cached tokens (the next call fetches a new one)."""
    with _tokens_lock:
        _tokens.clear()


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_EXCERPT else f"{text[:BODY_EXCERPT]}..."


def _fetch_token(config: OpenEdxConfig) -> _Token:
    url = urljoin(config.lms_base_url, TOKEN_PATH)
    try:
        response = requests.post(
            url,
            data={
                "grant_type": "client_credentials",
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "token_type": "jwt",
            },
            timeout=config.timeout,
        )
    except requests.RequestException as exc:
        raise _network_error("Getting an Open edX access token", exc, config) from exc
    status = response.status_code
    if status == 429 or status >= 500:
        raise _transient(
            f"Getting an Open edX access token: Open edX answered {status}: "
            f"{_excerpt(response.text)}",
            response,
        )
    if status >= 400:
        raise OpenEdxRequestError(
            f"Getting an Open edX access token: Open edX refused the service account's "
            f"credentials ({status}): {_excerpt(response.text)}",
            status_code=status,
        )
    try:
        body = response.json()
        value = body["access_token"]
        expires_in = int(body.get("expires_in") or 0)
        if not isinstance(value, str) or not value:
            raise TypeError("access_token is not a string")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise OpenEdxRequestError(
            f"Getting an Open edX access token: the answer has no usable access_token: "
            f"{_excerpt(response.text)}",
            status_code=status,
        ) from exc
    margin = min(TOKEN_RENEWAL_MARGIN, expires_in / 2)
    return _Token(value=value, renew_at=_monotonic() + expires_in - margin)


def _access_token(config: OpenEdxConfig, *, stale: str | None = None) -> str:
    """A valid token: the cached one, unless it is ``stale`` or about to expire.

    The lock makes concurrent callers of one process share one token request.
    """
    key = (config.lms_base_url, config.client_id)
    with _tokens_lock:
        token = _tokens.get(key)
        if token is None or token.value == stale or token.renew_at <= _monotonic():
            token = _fetch_token(config)
            _tokens[key] = token
        return token.value


# --- Calls -------------------------------------------------------------------------------------


def _network_error(action: str, exc: Exception, config: OpenEdxConfig) -> OpenEdxTransientError:
    if isinstance(exc, requests.Timeout):
        return OpenEdxTransientError(
            f"{action}: Open edX did not answer within {config.timeout} seconds"
        )
    return OpenEdxTransientError(f"{action}: cannot reach Open edX ({type(exc).__name__}: {exc})")


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """The wait a Retry-After header asks for: a number of seconds, or an HTTP date (the time
    until then, never negative). None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(moment.timestamp() - (time.time() if now is None else now), 0.0)


def _transient(message: str, response: requests.Response) -> OpenEdxTransientError:
    if response.status_code == 429:
        return OpenEdxThrottled(
            message, wait_seconds=retry_after_seconds(response.headers.get("Retry-After"))
        )
    return OpenEdxTransientError(message)


def _http_response(exc: Exception) -> requests.Response | None:
    """The HTTP answer behind a library error, if there was one."""
    cause = exc.__cause__ if isinstance(exc, CourseRunAPIError) else exc
    if isinstance(cause, requests.HTTPError) and cause.response is not None:
        return cause.response
    return None


def _translate(action: str, exc: Exception, config: OpenEdxConfig) -> Exception:
    response = _http_response(exc)
    if response is not None:
        status = response.status_code
        message = f"{action}: Open edX answered {status}: {_excerpt(response.text)}"
        if status == 429 or status >= 500:
            return _transient(message, response)
        if status == 404:
            return OpenEdxNotFound(message, status_code=status)
        return OpenEdxRequestError(message, status_code=status)
    if isinstance(exc, ValueError):  # includes requests' JSONDecodeError
        return OpenEdxRequestError(f"{action}: Open edX answered something that is not JSON")
    if isinstance(exc, requests.RequestException):
        return _network_error(action, exc, config)
    return exc


def _call(action: str, operation: Callable[[requests.Session, OpenEdxConfig], T]) -> T:
    """Run ``operation`` with an authenticated requester; on 401, renew the token once."""
    config = get_config()
    token = _access_token(config)
    for attempt in (1, 2):
        requester = EdxApi(
            {"access_token": token}, base_url=config.lms_base_url, timeout=config.timeout
        ).get_requester(token_type="JWT")
        try:
            return operation(requester, config)
        except (requests.RequestException, CourseRunAPIError, ValueError) as exc:
            response = _http_response(exc)
            if response is not None and response.status_code == 401 and attempt == 1:
                log.info("%s: Open edX refused the access token (401); renewing it", action)
                token = _access_token(config, stale=token)
                continue
            raise _translate(action, exc, config) from exc
        finally:
            requester.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _json_or_error(response: requests.Response) -> dict:
    response.raise_for_status()
    return response.json()


# --- Studio: course runs -----------------------------------------------------------------------


def get_studio_course_run(courseware_id: str) -> StudioCourseRun | None:
    """The run as Studio has it, or None when Studio does not have it."""
    try:
        return _call(
            f"Reading {courseware_id} in Studio",
            lambda requester, config: CourseRuns(requester, config.studio_base_url).get_course_run(
                courseware_id
            ),
        )
    except OpenEdxNotFound:
        return None


def clone_studio_course_run(*, source_id: str, target_id: str) -> None:
    """Copy ``source_id`` into a new run ``target_id`` in Studio (it must not exist yet)."""
    _call(
        f"Copying {source_id} to {target_id} in Studio",
        lambda requester, config: CourseRuns(requester, config.studio_base_url).clone_course_run(
            source_id, target_id
        ),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def update_studio_course_run(
    *,
    courseware_id: str,
    title: str,
    self_paced: bool,
    start: datetime | None,
    end: datetime | None,
    enrollment_start: datetime | None,
    enrollment_end: datetime | None,
) -> StudioCourseRun:
    """Set the run's title, pacing and schedule in Studio.

    When the run has a start, the whole schedule is sent, ``None`` values included: an
    open-ended run gets an explicit null end rather than keeping the end of the run it was
    copied from.
    """
    payload: dict = {
        "title": title,
        "pacing_type": "self_paced" if self_paced else "instructor_paced",
    }
    if start is not None:
        payload["schedule"] = {
            "start": _iso(start),
            "end": _iso(end),
            "enrollment_start": _iso(enrollment_start),
            "enrollment_end": _iso(enrollment_end),
        }

    def put(requester: requests.Session, config: OpenEdxConfig) -> StudioCourseRun:
        url = urljoin(config.studio_base_url, f"{CourseRuns.course_run_url}{courseware_id}/")
        return StudioCourseRun(_json_or_error(requester.put(url, json=payload)))

    return _call(f"Updating {courseware_id} in Studio", put)


# --- LMS: enrollments and course details -------------------------------------------------------


def create_enrollment(*, email: str, courseware_id: str, mode: str) -> Enrollment:
    """Enroll the Open edX user with this email in the run, in ``mode``; reactivates and
    changes the mode of an existing enrollment. Idempotent."""
    payload: dict[str, Any] = {
        "email": email,
        "mode": mode,
        "is_active": True,
        "course_details": {"course_id": courseware_id},
        # The site already decided the learner may enroll (contract, code, payment); the
        # run's own enrollment window in Open edX must not undo that.
        "force_enrollment": True,
    }

    def post(requester: requests.Session, config: OpenEdxConfig) -> Enrollment:
        url = urljoin(config.lms_base_url, CourseEnrollments.enrollment_url)
        return Enrollment(_json_or_error(requester.post(url, json=payload)))

    return _call(f"Enrolling {email} in {courseware_id}", post)


def get_course_detail(courseware_id: str) -> CourseDetail:
    """The LMS's description of a run (name, dates, pacing). Raises OpenEdxNotFound."""
    return _call(
        f"Reading {courseware_id} from the LMS",
        lambda requester, config: CourseDetails(requester, config.lms_base_url).get_detail(
            courseware_id
        ),
    )


# --- LMS: learner progress, one page at a time -------------------------------------------------

GRADES_URL = "/api/grades/v1/courses/{course_id}/"
CERTIFICATE_URL = "/api/certificates/v0/certificates/{username}/courses/{course_id}/"
# Learners per page of the course-wide grades (the LMS's own default).
GRADES_PAGE_SIZE = 50

P = TypeVar("P")


@dataclass(frozen=True)
class Page(Generic[P]):
    """One page of a list, and where the next one starts (None: this was the last)."""

    items: list[P]
    next_cursor: str | None


@dataclass(frozen=True)
class EdxEnrollment:
    username: str
    mode: str
    active: bool
    created: datetime | None


@dataclass(frozen=True)
class EdxGrade:
    username: str
    email: str
    percent: float
    letter_grade: str
    passed: bool


@dataclass(frozen=True)
class EdxCertificate:
    status: str
    download_url: str
    created: datetime | None


def _results(action: str, response: requests.Response) -> tuple[list[dict], str | None]:
    body = _json_or_error(response)
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise OpenEdxRequestError(f"{action}: Open edX answered a page without its results")
    next_url = body.get("next")
    return body["results"], next_url if isinstance(next_url, str) and next_url else None


def _unusable(action: str, exc: Exception) -> OpenEdxRequestError:
    return OpenEdxRequestError(f"{action}: Open edX answered something unusable ({exc})")


def _parsed(action: str, build: Callable[[], T]) -> T:
    try:
        return build()
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise _unusable(action, exc) from exc


def _enrollment(item: dict) -> EdxEnrollment:
    enrollment = Enrollment(item)
    username = enrollment.user
    if not isinstance(username, str) or not username:
        raise ValueError("an enrollment without its user")
    return EdxEnrollment(
        username=username,
        mode=str(enrollment.mode or ""),
        active=enrollment.is_active,
        created=enrollment.created,
    )


def _list_page(
    action: str, path: str, first: dict[str, str | int], cursor: str
) -> tuple[list[dict], str | None]:
    """One page of a paginated LMS list at ``path``: the first (with the ``first`` query), or
    the one ``cursor`` names. The cursor is the query of the previous page's ``next`` link,
    whatever paging the LMS uses there (a DRF cursor, a page number), and it is always asked of
    the configured LMS: a ``next`` link naming another host is never followed with our token."""

    def get(requester: requests.Session, config: OpenEdxConfig) -> tuple[list[dict], str | None]:
        url = urljoin(config.lms_base_url, path)
        if cursor:
            return _results(action, requester.get(f"{url}?{cursor}"))
        return _results(action, requester.get(url, params=first))

    items, next_url = _call(action, get)
    return items, (urlsplit(next_url).query or None) if next_url is not None else None


def enrollments_page(courseware_id: str, *, cursor: str = "") -> Page[EdxEnrollment]:
    """One page of the run's enrollments, active or not. ``cursor``: where the page starts, as
    the previous page's ``next_cursor`` gave it; empty for the first page."""
    action = f"Reading the enrollments of {courseware_id}"
    items, next_cursor = _list_page(
        action, CourseEnrollments.enrollment_list_url, {"course_id": courseware_id}, cursor
    )
    return Page(_parsed(action, lambda: [_enrollment(item) for item in items]), next_cursor)


def _grade(item: dict) -> EdxGrade:
    grade = CurrentGrade(item)
    username = grade.username
    if not isinstance(username, str) or not username:
        raise ValueError("a grade without its username")
    percent = float(grade.percent or 0)
    if not 0 <= percent <= 1:
        raise ValueError(f"a percent of {percent} for {username}")
    return EdxGrade(
        username=username,
        email=str(grade.email or ""),
        percent=percent,
        letter_grade=str(grade.letter_grade or ""),
        passed=grade.passed is True,
    )


def course_grades_page(courseware_id: str, *, cursor: str = "") -> Page[EdxGrade]:
    """A page of the current grades of every learner in the run, GRADES_PAGE_SIZE a page: the
    first, or the one ``cursor`` (the previous page's ``next_cursor``) names. The LMS's ``next``
    link is followed as it comes (its grades list pages by cursor)."""
    action = f"Reading the grades of {courseware_id}"
    path = GRADES_URL.format(course_id=courseware_id)
    items, next_cursor = _list_page(action, path, {"page_size": GRADES_PAGE_SIZE}, cursor)
    grades = _parsed(action, lambda: [_grade(item) for item in items])
    return Page(grades, next_cursor)


def _certificate(item: dict, lms_base_url: str) -> EdxCertificate:
    certificate = Certificate(item)
    created = item.get("created_date")
    url = certificate.download_url
    return EdxCertificate(
        status=str(certificate.status or ""),
        # The LMS gives a path on itself: kept as a whole address.
        download_url=urljoin(lms_base_url, url) if isinstance(url, str) and url else "",
        # The library's ``created`` reads a "created" key; the LMS names it "created_date".
        created=datetime.fromisoformat(created) if created else None,
    )


def certificate_of(username: str, courseware_id: str) -> EdxCertificate | None:
    """The learner's certificate in the run, whatever its status; None when there is none. Its
    download URL is a whole address (on the LMS when the LMS gives a path)."""
    action = f"Reading the certificate of {username} in {courseware_id}"

    def get(requester: requests.Session, config: OpenEdxConfig) -> tuple[dict, str]:
        path = CERTIFICATE_URL.format(username=quote(username, safe=""), course_id=courseware_id)
        body = _json_or_error(requester.get(urljoin(config.lms_base_url, path)))
        if not isinstance(body, dict):
            raise OpenEdxRequestError(f"{action}: Open edX answered something else than a record")
        return body, config.lms_base_url

    try:
        item, base = _call(action, get)
    except OpenEdxNotFound:
        return None
    return _parsed(action, lambda: _certificate(item, base))
