"""A small Open edX for tests: real HTTP servers on 127.0.0.1 speaking the endpoints we use.

Two servers share one state, as the real services share their users and courses: the LMS
(OAuth2 tokens, the enrollment API, the course detail API) and Studio (the course runs API:
get, clone, update). Every request is recorded (service, method, path, headers, body), so
tests can assert the authorization header, the bodies and the order of the calls.

Answers follow Open edX's shapes and status codes (DRF ``{"detail": ...}`` bodies, 400 for a
clone onto an existing run, 406 for an unknown learner...). Failures are scripted per endpoint
with ``fail()``: a status and body, a delay (a timeout for the caller), or both, optionally
after the request took effect (the work is done but the answer is lost). Token endpoints can
also answer malformed bodies, and ``expire_tokens()`` makes every issued token answer 401.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

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


@dataclass
class Reply:
    status: int
    body: object


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
    enrollments: dict[tuple[str, str], dict] = field(default_factory=dict)
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

    def route(self, service: str, method: str, path: str) -> tuple[str | None, str | None]:
        """The endpoint a request is for, and the run key in its path."""
        routes = {
            "lms": [
                ("POST", r"/oauth2/access_token/?", TOKEN),
                ("GET", rf"/api/courses/v1/courses/(?P<key>{RUN_KEY})/?", COURSE_DETAIL),
                ("POST", r"/api/enrollment/v1/enrollment/?", ENROLLMENT),
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
                return endpoint, match.groupdict().get("key")
        return None, None

    def reply(self, endpoint: str, key: str | None, headers: dict, body) -> Reply:
        """The normal answer (called by the HTTP handler, under the lock)."""
        if endpoint == TOKEN:
            return self._issue_token(body if isinstance(body, dict) else {})
        denied = self._authenticate(headers)
        if denied:
            return denied
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
            with fake.lock:
                endpoint, key = fake.route(service, self.command, split.path)
                fake.requests.append(
                    RecordedRequest(service, endpoint, self.command, self.path, headers, body)
                )
                failure = fake.failures[endpoint].popleft() if fake.failures[endpoint] else None
                if endpoint is None:
                    reply = Reply(404, {"detail": "Not found."})
                elif failure is None or failure.apply or failure.status is None:
                    reply = fake.reply(endpoint, key, headers, body)
                if failure is not None and failure.status is not None:
                    reply = Reply(failure.status, failure.body)
            if failure is not None and failure.delay:
                time.sleep(failure.delay)
            self._send(reply)

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
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a scripted timeout)

        do_GET = do_POST = do_PUT = _serve

    return Handler
