"""The product's own limits and sizes (the managers' pages and invitations, codes, progress
lines), the REST API, and logging."""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.env import get_int, get_list, get_str

# B2B_STAFF_ALERT_EMAILS: comma-separated addresses of the staff who receive the health report's
# new findings and the contracts' utilization alerts. Empty: staff get no such mail.
B2B_STAFF_ALERT_EMAILS = get_list("B2B_STAFF_ALERT_EMAILS", [])

# The manager pages (/manage/, docs/managers.md).
# B2B_MANAGE_PAGE_SIZE: learners, and invitations, shown per page of a contract.
B2B_MANAGE_PAGE_SIZE = get_int("B2B_MANAGE_PAGE_SIZE", 50)
# B2B_INVITE_UPLOAD_MAX_BYTES / B2B_INVITE_MAX_ROWS: the largest file of people to invite a
# manager may upload, in bytes and in rows; larger files are refused whole.
B2B_INVITE_UPLOAD_MAX_BYTES = get_int("B2B_INVITE_UPLOAD_MAX_BYTES", 2 * 1024 * 1024)
B2B_INVITE_MAX_ROWS = get_int("B2B_INVITE_MAX_ROWS", 10_000)
# B2B_INVITE_INLINE_ROWS: files of at most this many rows are handled in the request; larger ones
# run as a queued job whose progress the page shows.
B2B_INVITE_INLINE_ROWS = get_int("B2B_INVITE_INLINE_ROWS", 100)
# B2B_MANAGER_API_WRITES_PER_MINUTE: invitations, bulk invitations, reminders and revocations a
# manager account may make per minute through the API (/api/v1/manager/) and the manager pages
# (/manage/) together; more answer 429 (config/throttling.py).
B2B_MANAGER_API_WRITES_PER_MINUTE = get_int("B2B_MANAGER_API_WRITES_PER_MINUTE", 60)
# B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT / _PER_DAY: invitation and withdrawal e-mails
# one address may receive within 24 hours about one contract / about all contracts, whichever
# manager or channel sends them (b2b/services/invitations/email_limits.py). Past either, inviting
# the
# address is refused and a withdrawal is made without its e-mail.
B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT = get_int(
    "B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT", 4
)
B2B_INVITATION_EMAILS_PER_ADDRESS_PER_DAY = get_int("B2B_INVITATION_EMAILS_PER_ADDRESS_PER_DAY", 10)
# B2B_INVITE_RESULTS_SHOWN: rows of a job's results shown on its page (the download has them all).
B2B_INVITE_RESULTS_SHOWN = get_int("B2B_INVITE_RESULTS_SHOWN", 500)
for _setting in (
    "B2B_MANAGE_PAGE_SIZE",
    "B2B_INVITE_UPLOAD_MAX_BYTES",
    "B2B_INVITE_MAX_ROWS",
    "B2B_INVITE_RESULTS_SHOWN",
    "B2B_MANAGER_API_WRITES_PER_MINUTE",
    "B2B_INVITATION_EMAILS_PER_ADDRESS_PER_CONTRACT",
    "B2B_INVITATION_EMAILS_PER_ADDRESS_PER_DAY",
):
    if globals()[_setting] < 1:
        raise ImproperlyConfigured(f"{_setting} must be at least 1")

# Learner progress (b2b.services.progress, docs/progress.md).
# B2B_PROGRESS_DEFAULT_VISIBILITY: what a new contract's managers see of outcomes: "per-learner"
# or "aggregates" (counts only, groups under B2B_PROGRESS_MIN_GROUP learners hidden).
B2B_PROGRESS_DEFAULT_VISIBILITY = get_str("B2B_PROGRESS_DEFAULT_VISIBILITY", "per-learner")
if B2B_PROGRESS_DEFAULT_VISIBILITY not in ("per-learner", "aggregates"):
    raise ImproperlyConfigured(
        'B2B_PROGRESS_DEFAULT_VISIBILITY must be "per-learner" or "aggregates", '
        f"not {B2B_PROGRESS_DEFAULT_VISIBILITY!r}"
    )
B2B_PROGRESS_MIN_GROUP = get_int("B2B_PROGRESS_MIN_GROUP", 5)
# A learner needs attention when enrolled and not started after B2B_PROGRESS_NOT_STARTED_DAYS,
# or started and not passed with no change seen for B2B_PROGRESS_UNCHANGED_DAYS.
B2B_PROGRESS_NOT_STARTED_DAYS = get_int("B2B_PROGRESS_NOT_STARTED_DAYS", 14)
B2B_PROGRESS_UNCHANGED_DAYS = get_int("B2B_PROGRESS_UNCHANGED_DAYS", 30)
# B2B_PROGRESS_NUDGE_COOLDOWN_DAYS: at most one nudge per learner and run in this many days.
B2B_PROGRESS_NUDGE_COOLDOWN_DAYS = get_int("B2B_PROGRESS_NUDGE_COOLDOWN_DAYS", 7)
# B2B_PROGRESS_REFRESH_SECONDS: a manager may ask for a contract's refresh once in this time.
B2B_PROGRESS_REFRESH_SECONDS = get_int("B2B_PROGRESS_REFRESH_SECONDS", 3600)
# A run is synced nightly from its start until B2B_PROGRESS_DAYS_AFTER_END days after its end;
# b2b_health reports a live run whose progress is older than B2B_PROGRESS_STALE_HOURS.
B2B_PROGRESS_DAYS_AFTER_END = get_int("B2B_PROGRESS_DAYS_AFTER_END", 31)
B2B_PROGRESS_STALE_HOURS = get_int("B2B_PROGRESS_STALE_HOURS", 48)
# B2B_PROGRESS_SYNC_ATTEMPTS: tries of one Open edX page (429, 5xx, timeouts) before the run's
# sync is recorded as failed and left until the next one; B2B_PROGRESS_RETRY_MAX_SECONDS caps a
# wait (Retry-After included).
B2B_PROGRESS_SYNC_ATTEMPTS = get_int("B2B_PROGRESS_SYNC_ATTEMPTS", 5)
B2B_PROGRESS_RETRY_MAX_SECONDS = get_int("B2B_PROGRESS_RETRY_MAX_SECONDS", 60)
# B2B_PROGRESS_CERTIFICATE_REQUESTS: certificates read from Open edX at once (one request per
# learner: Open edX has no course-wide list); 1 reads them one after the other.
B2B_PROGRESS_CERTIFICATE_REQUESTS = get_int("B2B_PROGRESS_CERTIFICATE_REQUESTS", 4)
for _setting in (
    "B2B_PROGRESS_MIN_GROUP",
    "B2B_PROGRESS_NOT_STARTED_DAYS",
    "B2B_PROGRESS_UNCHANGED_DAYS",
    "B2B_PROGRESS_NUDGE_COOLDOWN_DAYS",
    "B2B_PROGRESS_REFRESH_SECONDS",
    "B2B_PROGRESS_DAYS_AFTER_END",
    "B2B_PROGRESS_STALE_HOURS",
    "B2B_PROGRESS_SYNC_ATTEMPTS",
    "B2B_PROGRESS_RETRY_MAX_SECONDS",
    "B2B_PROGRESS_CERTIFICATE_REQUESTS",
):
    if globals()[_setting] < 1:
        raise ImproperlyConfigured(f"{_setting} must be at least 1")


# The REST API (/api/v1/, docs/api.md). Integrations sign in with a token (django-rest-knox:
# stored hashed, with an expiry, revocable; `manage.py api_token`), browsers with their session
# (and its CSRF token). Endpoints are for staff unless they say otherwise; every list is
# cursor-paginated; every error has one shape (config/api/errors.py).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.IdCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.api.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
# API_TOKEN_TTL_HOURS: how long an API token made with `manage.py api_token create` is valid;
# 0 makes tokens that never expire (they can still be revoked).
API_TOKEN_TTL_HOURS = get_int("API_TOKEN_TTL_HOURS", 24 * 90)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS) if API_TOKEN_TTL_HOURS > 0 else None,
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "B2B contracts API",
    "DESCRIPTION": "Organizations, contracts, courseware, codes and learners (docs/api.md).",
    "VERSION": "1.0.0",
    # The schema describes the project's API (/api/v1/...) only, not Wagtail's admin API.
    "PREPROCESSING_HOOKS": ["config.api.schema.project_endpoints_only"],
    # The interactive page's scripts and styles come from this site (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
}

# B2B_CODE_BATCH_SIZE: rows written per statement when enrollment codes are created or changed.
B2B_CODE_BATCH_SIZE = get_int("B2B_CODE_BATCH_SIZE", 5000)
# B2B_PROGRESS_LINE_SECONDS: when a command's stderr is not a terminal (a log, CI), a long step
# (creating codes) writes a line "<step>: <done>/<total>" when it starts, at most this often
# while it runs, and when it is complete. 0: a line for every batch.
B2B_PROGRESS_LINE_SECONDS = get_int("B2B_PROGRESS_LINE_SECONDS", 5)
if B2B_PROGRESS_LINE_SECONDS < 0:
    raise ImproperlyConfigured("B2B_PROGRESS_LINE_SECONDS must not be negative")
# B2B_MAX_CODES_PER_CONTRACT: the most enrollment codes one contract may hold (a capped contract
# holds cap x products). A change that would need more is refused, on every path, before anything
# is written: a mistyped cap must not fill the database with codes.
B2B_MAX_CODES_PER_CONTRACT = get_int("B2B_MAX_CODES_PER_CONTRACT", 1_000_000)
if B2B_MAX_CODES_PER_CONTRACT < 1:
    raise ImproperlyConfigured(
        f"B2B_MAX_CODES_PER_CONTRACT must be at least 1, not {B2B_MAX_CODES_PER_CONTRACT}"
    )

# LOG_LEVEL: the level of the project's own loggers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        app: {"level": get_str("LOG_LEVEL", "WARNING"), "propagate": True}
        for app in ("b2b", "courses", "ecommerce", "users", "cms")
    },
}
