"""A small Open edX for tests: real HTTP servers on 127.0.0.1 speaking the endpoints we use.

Two servers share one state, as the real services share their users and courses: the LMS
(OAuth2 tokens, the enrollment API and the enrollment list, the course detail API, the
course-wide current grades and the learners' certificates) and Studio (the course runs API:
get, clone, update). Every request is recorded (service, method, path, headers, body), so
tests can assert the authorization header, the bodies and the order of the calls.

Answers follow Open edX's shapes and status codes (DRF ``{"detail": ...}`` bodies, 400 for a
clone onto an existing run, 406 for an unknown learner...). Failures are scripted per endpoint
with ``fail()``: a status and body, a delay (a timeout for the caller), or both, optionally
after the request took effect (the work is done but the answer is lost), with extra headers
(``Retry-After`` on a 429), or as a reset connection (closed without an answer). Token
endpoints can also answer malformed bodies, and ``expire_tokens()`` makes every issued token
answer 401.

Learners' progress: ``add_enrollment``, ``set_grade`` and ``set_certificate`` script one
learner; ``load_learners`` loads many ``Learner`` rows at once (benchmarks). The enrollment list
pages with an opaque cursor in its ``next`` link (``enrollment_page_size`` a page, as the LMS's
cursor pagination does); the grades page by number (``page_size``, 50 by default), and list
every learner enrolled in the run, with a grade of 0 for one who has none yet.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

CLIENT_ID = "b2b-service-worker"
CLIENT_SECRET = "service-worker-secret"
RUN_KEY = r"course-v1:[^/+]+\+[^/+]+\+[^/+]+"

# Endpoint names, for fail() and RecordedRequest.endpoint.
TOKEN = "token"
COURSE_DETAIL = "course_detail"
ENROLLMENT = "enrollment"
RUN_GET = "course_run_get"
RUN_CLONE = "course_run_clone"
RUN_UPDATE = "course_run_update"
ENROLLMENT_LIST = "enrollment_list"
COURSE_GRADES = "course_grades"
CERTIFICATE = "certificate"

ENROLLED_ON = "2026-03-02T10:00:00Z"


@dataclass
class RecordedRequest:
    service: str  # "lms" or "studio"
    endpoint: str | None
    method: str
    path: str
    headers: dict[str, str]
    body: object  # parsed JSON, a dict of form fields, or None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")


@dataclass
class Failure:
    status: int | None = None  # None: the normal answer (with ``delay``/``apply``)
    body: object = None  # a dict/list (sent as JSON) or a str (sent as is)
    delay: float = 0.0  # seconds to wait before answering
    apply: bool = False  # do the request's work before failing
    headers: dict[str, str] = field(default_factory=dict)  # sent with the failure's answer
    reset: bool = False  # close the connection without answering (after ``delay``)


@dataclass
class Reply:
    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Learner:
    """One learner of a run, for ``load_learners``: the enrollment, the grade (None: no grade
    yet, listed as 0) and the certificate (``cert_status`` None: none)."""

    username: str
    email: str = ""
    mode: str = "audit"
    is_active: bool = True
    created: str = ENROLLED_ON
    percent: float | None = None
    passed: bool = False
    letter_grade: str | None = None
    cert_status: str | None = None
    cert_created: str = "2026-05-01T12:00:00Z"


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o={offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("o=")) if text.startswith("o=") else None
    except ValueError:
        return None


def _dt(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat().replace("+00:00", "Z")


@dataclass
class FakeOpenEdx:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    token_expires_in: int = 3600
    # Stock Studio declares the schedule's end as required and not nullable; set True to
    # answer 400 to ``"end": null`` as it does.
    studio_rejects_null_end: bool = False
    requests: list[RecordedRequest] = field(default_factory=list)
    studio_runs: dict[str, dict] = field(default_factory=dict)
    lms_courses: dict[str, dict] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # email -> username
    enrollments: dict[tuple[str, str], dict] = field(default_factory=dict)  # (username, run)
    grades: dict[tuple[str, str], dict] = field(default_factory=dict)  # (username, run)
    certificates: dict[tuple[str, str], dict] = field(default_factory=dict)  # (username, run)
    emails: dict[str, str] = field(default_factory=dict)  # username -> email
    enrollment_page_size: int = 100
    issued_tokens: list[str] = field(default_factory=list)
    expired_tokens: set[str] = field(default_factory=set)
    failures: dict[str, deque[Failure]] = field(default_factory=lambda: defaultdict(deque))

    def __post_init__(self):
        self.lock = threading.Lock()
        self._counter = itertools.count(1)
        self._servers: dict[str, ThreadingHTTPServer] = {}

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> FakeOpenEdx:
        for service in ("lms", "studio"):
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self, service))
            server.daemon_threads = True
            server.block_on_close = False
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            ).start()
            self._servers[service] = server
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    @property
    def lms_url(self) -> str:
        return f"http://127.0.0.1:{self._servers['lms'].server_address[1]}/"

    @property
    def studio_url(self) -> str:
        return f"http://127.0.0.1:{self._servers['studio'].server_address[1]}/"

    # --- scripting ----------------------------------------------------------------------------

    def fail(self, endpoint: str, *failures: Failure) -> None:
        """Queue failures for the next requests to ``endpoint`` (one per request)."""
        with self.lock:
            self.failures[endpoint].extend(failures)

    def expire_tokens(self) -> None:
        with self.lock:
            self.expired_tokens.update(self.issued_tokens)

    def add_user(self, email: str, username: str | None = None) -> None:
        self.users[email] = username or email.split("@")[0]
        self.emails[self.users[email]] = email

    # --- learners' progress -------------------------------------------------------------------

    def add_enrollment(
        self,
        course_id: str,
        username: str,
        *,
        email: str | None = None,
        mode: str = "audit",
        is_active: bool = True,
        created: datetime | str = ENROLLED_ON,
    ) -> dict:
        """Enroll the learner (created as an Open edX user when new)."""
        email = email or self.emails.get(username) or f"{username}@example.com"
        with self.lock:
            self.users[email] = username
            self.emails[username] = email
            enrollment = self._enrollment(course_id, username, mode, is_active, created)
            self.enrollments[(username, course_id)] = enrollment
        return enrollment

    def set_grade(
        self,
        course_id: str,
        username: str,
        *,
        percent: float,
        passed: bool = False,
        letter_grade: str | None = None,
    ) -> None:
        with self.lock:
            self.grades[(username, course_id)] = self._grade(
                course_id, username, percent, passed, letter_grade
            )

    def set_certificate(
        self,
        course_id: str,
        username: str,
        *,
        status: str = "downloadable",
        certificate_type: str = "verified",
        created: datetime | str = "2026-05-01T12:00:00Z",
    ) -> None:
        with self.lock:
            self.certificates[(username, course_id)] = self._certificate(
                course_id, username, status, certificate_type, created
            )

    def remove_certificate(self, course_id: str, username: str) -> None:
        with self.lock:
            self.certificates.pop((username, course_id), None)

    def load_learners(self, course_id: str, learners: Iterable[Learner]) -> int:
        """Load many learners of one run at once (one lock, no HTTP); returns how many."""
        n = 0
        with self.lock:
            for learner in learners:
                name = learner.username
                email = learner.email or f"{name}@example.com"
                self.users[email] = name
                self.emails[name] = email
                self.enrollments[(name, course_id)] = self._enrollment(
                    course_id, name, learner.mode, learner.is_active, learner.created
                )
                if learner.percent is not None:
                    self.grades[(name, course_id)] = self._grade(
                        course_id, name, learner.percent, learner.passed, learner.letter_grade
                    )
                if learner.cert_status is not None:
                    self.certificates[(name, course_id)] = self._certificate(
                        course_id, name, learner.cert_status, "verified", learner.cert_created
                    )
                n += 1
        return n

    def _enrollment(
        self, course_id: str, username: str, mode: str, is_active: bool, created: datetime | str
    ) -> dict:
        return {
            "created": _dt(created),
            "mode": mode,
            "is_active": is_active,
            "course_details": {"course_id": course_id, "course_name": course_id},
            "user": username,
        }

    def _grade(
        self,
        course_id: str,
        username: str,
        percent: float,
        passed: bool,
        letter_grade: str | None,
    ) -> dict:
        return {
            "username": username,
            "email": self.emails.get(username, ""),
            "course_id": course_id,
            "passed": passed,
            "percent": percent,
            "letter_grade": letter_grade,
        }

    def _certificate(
        self,
        course_id: str,
        username: str,
        status: str,
        certificate_type: str,
        created: datetime | str,
    ) -> dict:
        downloadable = status == "downloadable"
        return {
            "username": username,
            "course_id": course_id,
            "certificate_type": certificate_type,
            "created_date": _dt(created),
            "status": status,
            "is_passing": downloadable,
            "download_url": f"/certificates/{username}-{course_id[10:]}" if downloadable else None,
            "grade": "0.9",
        }

    def add_studio_run(
        self,
        course_id: str,
        *,
        title: str = "Source course",
        start: datetime | str | None = "2026-01-01T00:00:00Z",
        end: datetime | str | None = "2026-12-31T00:00:00Z",
        pacing_type: str = "instructor_paced",
    ) -> dict:
        run = {
            "id": course_id,
            "title": title,
            "schedule": {
                "start": _dt(start),
                "end": _dt(end),
                "enrollment_start": None,
                "enrollment_end": None,
            },
            "pacing_type": pacing_type,
            "team": [],
            "images": {
                "card_image": f"{self.studio_url}asset-v1:{course_id[10:]}+type@asset"
                "+block@images_course_image.jpg"
            },
        }
        self.studio_runs[course_id] = run
        return run

    def add_lms_course(
        self,
        course_id: str,
        *,
        name: str,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        enrollment_start: datetime | str | None = None,
        enrollment_end: datetime | str | None = None,
        pacing: str = "instructor",
    ) -> dict:
        org, number, _run = course_id.removeprefix("course-v1:").split("+")
        detail = {
            "blocks_url": f"{self.lms_url}api/courses/v1/blocks/?course_id={course_id}",
            "effort": "5 hours",
            "end": _dt(end),
            "enrollment_start": _dt(enrollment_start),
            "enrollment_end": _dt(enrollment_end),
            "id": course_id,
            "course_id": course_id,
            "media": {"course_image": {"uri": f"/asset-v1:{course_id[10:]}+type@asset"}},
            "name": name,
            "number": number,
            "org": org,
            "short_description": "",
            "start": _dt(start),
            "start_display": None,
            "start_type": "timestamp" if start else "empty",
            "pacing": pacing,
            "mobile_available": False,
            "hidden": False,
            "invitation_only": False,
        }
        self.lms_courses[course_id] = detail
        return detail

    # --- queries for assertions ---------------------------------------------------------------

    def calls(self, *, include_tokens: bool = True) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests if include_tokens or r.endpoint != TOKEN]

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.endpoint == endpoint]

    # --- behaviour ----------------------------------------------------------------------------

    def _authenticate(self, headers: dict[str, str]) -> Reply | None:
        header = headers.get("Authorization", "")
        prefix, _, token = header.partition(" ")
        if not header:
            return Reply(401, {"detail": "Authentication credentials were not provided."})
        if prefix.lower() != "jwt" or token not in self.issued_tokens:
            return Reply(401, {"detail": "Error decoding token."})
        if token in self.expired_tokens:
            return Reply(401, {"detail": "Signature has expired."})
        return None

    def _issue_token(self, form: dict) -> Reply:
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return Reply(401, {"error": "invalid_client"})
        n = next(self._counter)
        claims = base64.urlsafe_b64encode(json.dumps({"n": n}).encode()).decode().rstrip("=")
        token = f"eyJhbGciOiJIUzI1NiJ9.{claims}.sig{n}"
        self.issued_tokens.append(token)
        token_type = "JWT" if form.get("token_type") == "jwt" else "Bearer"
        return Reply(
            200,
            {
                "access_token": token,
                "expires_in": self.token_expires_in,
                "token_type": token_type,
                "scope": "read write email profile",
            },
        )

    def _clone(self, body: dict) -> Reply:
        source, target = body.get("source_course_id"), body.get("destination_course_id")
        if source not in self.studio_runs:
            return Reply(400, {"non_field_errors": ["Source course does not exist."]})
        if target in self.studio_runs:
            return Reply(400, {"non_field_errors": ["Destination course already exists."]})
        copy = json.loads(json.dumps(self.studio_runs[source]))
        copy["id"] = target
        # Like Studio's re-run: enrollment dates are not carried over.
        copy["schedule"].update(enrollment_start=None, enrollment_end=None)
        self.studio_runs[target] = copy
        return Reply(201, {"message": "Course cloned successfully."})

    def _update(self, course_id: str, body: dict) -> Reply:
        run = self.studio_runs.get(course_id)
        if run is None:
            return Reply(404, {"detail": "Not found."})
        errors: dict = {}
        if not body.get("title"):
            errors["title"] = ["This field is required."]
        pacing = body.get("pacing_type", run["pacing_type"])
        if pacing not in ("instructor_paced", "self_paced"):
            errors["pacing_type"] = [f'"{pacing}" is not a valid choice.']
        schedule = body.get("schedule")
        if schedule is not None:
            if not schedule.get("start"):
                errors.setdefault("schedule", {})["start"] = ["This field may not be null."]
            if "end" not in schedule:
                errors.setdefault("schedule", {})["end"] = ["This field is required."]
            elif schedule["end"] is None and self.studio_rejects_null_end:
                errors.setdefault("schedule", {})["end"] = ["This field may not be null."]
        if errors:
            return Reply(400, errors)
        run.update(title=body["title"], pacing_type=pacing)
        if schedule is not None:
            run["schedule"] = {
                key: schedule.get(key)
                for key in ("start", "end", "enrollment_start", "enrollment_end")
            }
        return Reply(200, run)

    def _enroll(self, body: dict) -> Reply:
        course_id = (body.get("course_details") or {}).get("course_id")
        if not course_id:
            return Reply(
                400, {"message": "Course ID must be specified to create a new enrollment."}
            )
        username = body.get("user")
        if not username:
            email = body.get("email")
            if email not in self.users:
                return Reply(
                    406, {"message": f"The user with the email address {email} does not exist."}
                )
            username = self.users[email]
        if course_id not in self.lms_courses and course_id not in self.studio_runs:
            return Reply(400, {"message": f"No course '{course_id}' found for enrollment"})
        mode = body.get("mode") or "audit"
        enrollment = {
            "created": "2026-03-02T10:00:00Z",
            "mode": mode,
            "is_active": body.get("is_active", True),
            "course_details": {"course_id": course_id, "course_name": course_id},
            "user": username,
        }
        self.enrollments[(username, course_id)] = enrollment
        return Reply(200, enrollment)

    def route(self, service: str, method: str, path: str) -> tuple[str | None, dict[str, str]]:
        """The endpoint a request is for, and the values in its path (the run ``key``...)."""
        routes = {
            "lms": [
                ("POST", r"/oauth2/access_token/?", TOKEN),
                ("GET", rf"/api/courses/v1/courses/(?P<key>{RUN_KEY})/?", COURSE_DETAIL),
                ("POST", r"/api/enrollment/v1/enrollment/?", ENROLLMENT),
                ("GET", r"/api/enrollment/v1/enrollments/?", ENROLLMENT_LIST),
                ("GET", rf"/api/grades/v1/courses/(?P<key>{RUN_KEY})/?", COURSE_GRADES),
                (
                    "GET",
                    rf"/api/certificates/v0/certificates/(?P<username>[^/]+)/courses/"
                    rf"(?P<key>{RUN_KEY})/?",
                    CERTIFICATE,
                ),
            ],
            "studio": [
                ("POST", r"/api/v1/course_runs/clone/", RUN_CLONE),
                ("GET", rf"/api/v1/course_runs/(?P<key>{RUN_KEY})/", RUN_GET),
                ("PUT", rf"/api/v1/course_runs/(?P<key>{RUN_KEY})/", RUN_UPDATE),
            ],
        }[service]
        for route_method, pattern, endpoint in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                return endpoint, match.groupdict()
        return None, {}

    def _enrollment_list(self, query: dict[str, str]) -> Reply:
        course_id = query.get("course_id")
        names = sorted(u for (u, c) in self.enrollments if course_id is None or c == course_id)
        offset = 0
        if query.get("cursor"):
            found = _offset(query["cursor"])
            if found is None:
                return Reply(404, {"detail": "Invalid cursor"})
            offset = found
        size = self.enrollment_page_size
        page = names[offset : offset + size]
        results = []
        for name in page:
            enrollment = self.enrollments[(name, course_id)] if course_id else None
            if enrollment is None:  # no course filter: the first of the learner's
                enrollment = next(e for (u, _c), e in self.enrollments.items() if u == name)
            item = {k: v for k, v in enrollment.items() if k != "course_details"}
            item["course_id"] = enrollment["course_details"]["course_id"]
            results.append(item)

        def link(at: int) -> str:
            params = {"cursor": _cursor(at)} | ({"course_id": course_id} if course_id else {})
            return f"{self.lms_url}api/enrollment/v1/enrollments?{urlencode(params)}"

        return Reply(
            200,
            {
                "next": link(offset + size) if offset + size < len(names) else None,
                "previous": link(max(offset - size, 0)) if offset else None,
                "results": results,
            },
        )

    def _course_grades(self, course_id: str, query: dict[str, str]) -> Reply:
        if course_id not in self.lms_courses and not any(
            c == course_id for (_u, c) in self.enrollments
        ):
            return Reply(404, {"detail": f"Course {course_id} does not exist."})
        # Like the LMS's grades list: DRF cursor paging (an opaque ``cursor``; ``page`` ignored).
        try:
            size = int(query.get("page_size", 50))
        except ValueError:
            return Reply(404, {"detail": "Invalid page size."})
        start = 0
        if query.get("cursor"):
            found = _offset(query["cursor"])
            if found is None:
                return Reply(404, {"detail": "Invalid cursor"})
            start = found
        names = sorted(
            u for (u, c), e in self.enrollments.items() if c == course_id and e["is_active"]
        )
        results = [
            self.grades.get((name, course_id)) or self._grade(course_id, name, 0.0, False, None)
            for name in names[start : start + size]
        ]
        base = f"{self.lms_url}api/grades/v1/courses/{course_id}/?page_size={size}&cursor="
        return Reply(
            200,
            {
                "next": f"{base}{_cursor(start + size)}" if start + size < len(names) else None,
                "previous": f"{base}{_cursor(max(start - size, 0))}" if start else None,
                "results": results,
            },
        )

    def _certificate_of(self, username: str, course_id: str) -> Reply:
        certificate = self.certificates.get((username, course_id))
        if certificate is None:
            return Reply(
                404,
                {
                    "error_code": "no_certificate_for_user",
                    "developer_message": f"Could not find a certificate for {username}.",
                },
            )
        return Reply(200, certificate)

    def reply(
        self,
        endpoint: str,
        key: str | None,
        headers: dict,
        body,
        *,
        path_values: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Reply:
        """The normal answer (called by the HTTP handler, under the lock)."""
        if endpoint == TOKEN:
            return self._issue_token(body if isinstance(body, dict) else {})
        denied = self._authenticate(headers)
        if denied:
            return denied
        query = query or {}
        if endpoint == ENROLLMENT_LIST:
            return self._enrollment_list(query)
        if endpoint == COURSE_GRADES:
            return self._course_grades(key or "", query)
        if endpoint == CERTIFICATE:
            return self._certificate_of((path_values or {}).get("username", ""), key or "")
        if endpoint == COURSE_DETAIL:
            detail = self.lms_courses.get(key)
            return Reply(200, detail) if detail else Reply(404, {"detail": "Not found."})
        if endpoint == RUN_GET:
            run = self.studio_runs.get(key)
            return Reply(200, run) if run else Reply(404, {"detail": "Not found."})
        if not isinstance(body, dict):
            return Reply(400, {"detail": "JSON parse error."})
        if endpoint == RUN_CLONE:
            return self._clone(body)
        if endpoint == RUN_UPDATE:
            return self._update(key, body)
        return self._enroll(body)


def _handler_for(fake: FakeOpenEdx, service: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # quiet
            pass

        def _serve(self):
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            content_type = self.headers.get("Content-Type", "")
            if "json" in content_type:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
            elif "x-www-form-urlencoded" in content_type:
                body = {k: v[0] for k, v in parse_qs(raw).items()}
            else:
                body = raw or None
            headers = dict(self.headers.items())
            query = {k: v[0] for k, v in parse_qs(split.query).items()}
            with fake.lock:
                endpoint, values = fake.route(service, self.command, unquote(split.path))
                fake.requests.append(
                    RecordedRequest(service, endpoint, self.command, self.path, headers, body)
                )
                failure = fake.failures[endpoint].popleft() if fake.failures[endpoint] else None
                if endpoint is None:
                    reply = Reply(404, {"detail": "Not found."})
                elif failure is None or failure.apply or failure.status is None:
                    reply = fake.reply(
                        endpoint,
                        values.get("key"),
                        headers,
                        body,
                        path_values=values,
                        query=query,
                    )
                if failure is not None and failure.status is not None:
                    reply = Reply(failure.status, failure.body, dict(failure.headers))
            if failure is not None and failure.delay:
                time.sleep(failure.delay)
            if failure is not None and failure.reset:
                self._reset()
                return
            self._send(reply)

        def _reset(self):
            """Close the connection at once, without an answer (a TCP reset)."""
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()

        def _send(self, reply: Reply):
            if isinstance(reply.body, str):
                payload, content_type = reply.body.encode(), "text/html; charset=utf-8"
            else:
                payload, content_type = json.dumps(reply.body).encode(), "application/json"
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                if reply.status == 401:
                    self.send_header("WWW-Authenticate", 'JWT realm="api"')
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a scripted timeout)

        do_GET = do_POST = do_PUT = _serve

    return Handler
