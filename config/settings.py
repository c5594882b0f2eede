"""Django settings. This is the one module that reads the environment.

Every variable is documented where it is read; docs/settings.md is the operator-facing reference.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import get_bool, get_int, get_int_list, get_list, get_proxy_header, get_str

BASE_DIR = Path(__file__).resolve().parent.parent

# DEBUG: development mode (tracebacks in pages, static files served by runserver). Off by default.
DEBUG = get_bool("DEBUG", default=False)

# SECRET_KEY: signs sessions, password-reset links and CSRF tokens. Required unless DEBUG is on,
# in which case a fixed development key is used.
SECRET_KEY = get_str("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set it, or set DEBUG=true for local development"
        )
    SECRET_KEY = "development-only-insecure-key-do-not-use-in-production"

# ALLOWED_HOSTS: comma-separated host names this site answers to.
ALLOWED_HOSTS = get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

# Production security (HTTPS). Every default suits a site served over plain HTTP (local runs);
# a site behind HTTPS sets them (docs/settings.md, "Production deployment").
# SECURE_SSL_REDIRECT: redirect every plain-HTTP request to HTTPS.
SECURE_SSL_REDIRECT = get_bool("SECURE_SSL_REDIRECT", default=False)
# SECURE_HSTS_SECONDS: how long browsers must use HTTPS only for this host (Strict-Transport-
# Security). 0 sends no header. Start small: browsers remember it and cannot be told to forget.
SECURE_HSTS_SECONDS = get_int("SECURE_HSTS_SECONDS", 0)
# SECURE_HSTS_INCLUDE_SUBDOMAINS / SECURE_HSTS_PRELOAD: extend HSTS to every subdomain / allow
# the host on browsers' built-in preload lists.
SECURE_HSTS_INCLUDE_SUBDOMAINS = get_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = get_bool("SECURE_HSTS_PRELOAD", default=False)
# SESSION_COOKIE_SECURE / CSRF_COOKIE_SECURE: send the session and CSRF cookies over HTTPS only.
# They default to on when SECURE_SSL_REDIRECT is on (then every page is HTTPS anyway).
SESSION_COOKIE_SECURE = get_bool("SESSION_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = get_bool("CSRF_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
# SECURE_PROXY_SSL_HEADER: "HEADER,VALUE" set by the TLS-terminating proxy in front of the site,
# e.g. "X-Forwarded-Proto,https": a request carrying it is treated as HTTPS. Set it only when
# that proxy always sets or strips the header, or clients could claim HTTPS themselves.
SECURE_PROXY_SSL_HEADER = get_proxy_header("SECURE_PROXY_SSL_HEADER")
# CSRF_TRUSTED_ORIGINS: comma-separated origins (scheme and host, e.g. https://learn.example.edu)
# allowed to post forms besides the site's own host.
CSRF_TRUSTED_ORIGINS = get_list("CSRF_TRUSTED_ORIGINS", [])

# SITE_BASE_URL: the public address of the site, used to build absolute links such as the
# product URLs in the enrollment-codes CSV. No trailing slash is needed.
SITE_BASE_URL = (get_str("SITE_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")

# DATABASE_URL: where the data lives, e.g. postgres://user@127.0.0.1:5432/b2b. Unset: a SQLite
# file, db.sqlite3, in the project directory (the embedded default).
DATABASES = {
    "default": dj_database_url.parse(
        get_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=get_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    # Our apps first, so their templates take precedence.
    "users",
    "cms",
    "courses",
    "ecommerce",
    "b2b",
    # Wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    # Third parties
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "social_django",
    "axes",
    "mitol.common.apps.CommonApp",
    "mitol.payment_gateway.apps.PaymentGatewayApp",
    # Django. The admin discovers the apps' admin modules from the URL configuration, not at
    # start-up (config/apps.py).
    "config.apps.AdminWithoutDiscoveryConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything stores a part of the request (the session, the sign-in throttle).
    "config.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Attributes the changes a request makes to its user and channel (the audit trail).
    "config.acting.ActingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last: turns a sign-in refused by django-axes into the "sign-in paused" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The header's Manage, Admin and CMS links (at most one query, when shown).
                "b2b.context_processors.site_navigation",
            ],
            # ``{{ amount|money }}`` in every template: one way an amount reads (config/money.py).
            "builtins": ["config.templatetags.money"],
        },
    },
]

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in while its e-mail address and client are locked out (below).
    "axes.backends.AxesStandaloneBackend",
    "social_core.backends.open_id_connect.OpenIdConnectAuth",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/dashboard/"

# Who is asking. TRUSTED_PROXY_COUNT: how many reverse proxies in front of the site append the
# address they saw to X-Forwarded-For (0: clients connect directly, REMOTE_ADDR is theirs). The
# sign-in and code throttles count per client address (config/throttling.py).
TRUSTED_PROXY_COUNT = get_int("TRUSTED_PROXY_COUNT", 0)

# Sign-in throttle (django-axes), on every sign-in form: learners', Django admin's and Wagtail's.
# Failures are counted per e-mail address and client address together (users/signin_throttle.py).
# SIGNIN_FAILURE_LIMIT: failed sign-ins after which that pair is locked out.
AXES_FAILURE_LIMIT = get_int("SIGNIN_FAILURE_LIMIT", 5)
# SIGNIN_LOCKOUT_MINUTES: how long a lockout lasts, from the last failure.
AXES_COOLOFF_TIME = timedelta(minutes=get_int("SIGNIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "users.signin_throttle.attempted_username"
AXES_CLIENT_IP_CALLABLE = "config.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "users.signin_throttle.locked_out_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True  # a successful sign-in clears that pair's failures
# Attempts during a lockout do not extend it, so the wait shown is the real one.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True  # keep failures only, not a row per successful sign-in

# Enrollment-code throttle (ecommerce/services/code_attempts.py): refused codes counted per
# learner and per client address in a window that opens at the first refusal; at the limit
# every code is refused until the window ends.
# CODE_ATTEMPT_LIMIT_PER_LEARNER / CODE_ATTEMPT_LIMIT_PER_ADDRESS: refused codes allowed per window.
CODE_ATTEMPT_LIMIT_PER_LEARNER = get_int("CODE_ATTEMPT_LIMIT_PER_LEARNER", 10)
CODE_ATTEMPT_LIMIT_PER_ADDRESS = get_int("CODE_ATTEMPT_LIMIT_PER_ADDRESS", 50)
# CODE_ATTEMPT_WINDOW_SECONDS: the window's length.
CODE_ATTEMPT_WINDOW_SECONDS = get_int("CODE_ATTEMPT_WINDOW_SECONDS", 900)

# CACHE_URL: a cache shared by every web process, e.g. redis://127.0.0.1:6379/2 (rediss:// for
# TLS). Unset: each process keeps its own cache in memory, which is right for one process only:
# with several, the code throttle counts per process (`check --deploy` warns).
CACHE_URL = get_str("CACHE_URL")
if CACHE_URL is None:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// or rediss:// URL, not {CACHE_URL!r}")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

# E-mail. EMAIL_HOST: the SMTP server that sends the system's mail (invitations, reminders,
# alerts). Set, mail goes out by SMTP; unset, it is printed to the console (the embedded default).
EMAIL_HOST = get_str("EMAIL_HOST", "localhost")
# EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD: the SMTP server's port and login.
EMAIL_PORT = get_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = get_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = get_str("EMAIL_HOST_PASSWORD", "")
# EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL (implicit TLS): how the connection is secured.
EMAIL_USE_TLS = get_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = get_bool("EMAIL_USE_SSL", False)
# EMAIL_TIMEOUT: seconds before a connection to the SMTP server gives up.
EMAIL_TIMEOUT = get_int("EMAIL_TIMEOUT", 20)
# EMAIL_BACKEND: overrides the choice above (any Django e-mail backend).
EMAIL_BACKEND = get_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if get_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
# DEFAULT_FROM_EMAIL: the sender of the system's mail.
DEFAULT_FROM_EMAIL = get_str("DEFAULT_FROM_EMAIL", "no-reply@localhost")
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
# manager or channel sends them (b2b/services/email_limits.py). Past either, inviting the
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

# Wagtail
WAGTAIL_SITE_NAME = "B2B contracts"
WAGTAILADMIN_BASE_URL = SITE_BASE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# Celery.
# CELERY_BROKER_URL: the queue, e.g. redis://127.0.0.1:6379/0. Unset: tasks run eagerly, in the
# process that queues them (the embedded default); a direct .delay() re-raises their errors, and
# work queued after commit (config/queueing.py) logs them instead.
CELERY_BROKER_URL = get_str("CELERY_BROKER_URL")
# CELERY_RESULT_BACKEND: where task results are kept. Unset: results are not kept.
CELERY_RESULT_BACKEND = get_str("CELERY_RESULT_BACKEND")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
if CELERY_TASK_ALWAYS_EAGER:
    # Eager tasks never reach a broker, but Celery still builds a producer; the in-memory
    # transport keeps it from looking for a server that does not exist. The URL names a host:
    # without one kombu warns "No hostname was supplied" on every queued task.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Open edX.
# OPENEDX_API_BASE_URL: the LMS, e.g. https://courses.example.edu/ (token and enrollment APIs).
OPENEDX_API_BASE_URL = get_str("OPENEDX_API_BASE_URL")
# OPENEDX_STUDIO_API_BASE_URL: Studio, e.g. https://studio.example.edu/ (course run copies).
OPENEDX_STUDIO_API_BASE_URL = get_str("OPENEDX_STUDIO_API_BASE_URL")
# OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID / _SECRET: the OAuth2 client-credentials application of
# the Open edX service account that copies course runs. Unset: copies stay "not configured".
OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID = get_str("OPENEDX_COURSES_SERVICE_WORKER_CLIENT_ID")
OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET = get_str(
    "OPENEDX_COURSES_SERVICE_WORKER_CLIENT_SECRET"
)
# OPENEDX_REQUEST_TIMEOUT: seconds before a call to Open edX gives up.
OPENEDX_REQUEST_TIMEOUT = get_int("OPENEDX_REQUEST_TIMEOUT", 20)
# OPENEDX_MAX_RETRIES: how many times a run copy or an enrollment push is retried after a
# transient failure (Open edX unreachable, timeout, 429, 5xx) before it is recorded as failed.
OPENEDX_MAX_RETRIES = get_int("OPENEDX_MAX_RETRIES", 5)
# OPENEDX_RETRY_BACKOFF_SECONDS: the wait before the first retry; it doubles at each retry...
OPENEDX_RETRY_BACKOFF_SECONDS = get_int("OPENEDX_RETRY_BACKOFF_SECONDS", 30)
# OPENEDX_RETRY_BACKOFF_MAX_SECONDS: ...up to this many seconds.
OPENEDX_RETRY_BACKOFF_MAX_SECONDS = get_int("OPENEDX_RETRY_BACKOFF_MAX_SECONDS", 900)

# Queued work that fails or gets lost, and the periodic sweeps that find it again
# (docs/operator-guide.md, "Pending work").
# DATABASE_CONFLICT_RETRIES: how many times a queued task is retried after PostgreSQL aborted it
# for a deadlock or a serialization failure (nothing of it was written).
DATABASE_CONFLICT_RETRIES = get_int("DATABASE_CONFLICT_RETRIES", 5)
# DATABASE_CONFLICT_RETRY_SECONDS: the wait before the first such retry; it doubles at each
# retry...
DATABASE_CONFLICT_RETRY_SECONDS = get_int("DATABASE_CONFLICT_RETRY_SECONDS", 2)
# DATABASE_CONFLICT_RETRY_MAX_SECONDS: ...up to this many seconds.
DATABASE_CONFLICT_RETRY_MAX_SECONDS = get_int("DATABASE_CONFLICT_RETRY_MAX_SECONDS", 60)
# PENDING_SWEEP_INTERVAL_SECONDS: how often Celery beat runs the sweeps below.
PENDING_SWEEP_INTERVAL_SECONDS = get_int("PENDING_SWEEP_INTERVAL_SECONDS", 300)
# B2B_CODES_REQUEUE_AFTER_SECONDS: a contract whose codes have been pending this long has its
# reconciliation queued again by the sweep.
B2B_CODES_REQUEUE_AFTER_SECONDS = get_int("B2B_CODES_REQUEUE_AFTER_SECONDS", 600)
# OPENEDX_COPY_REQUEUE_AFTER_SECONDS: an Open edX copy still pending with no news for this long
# is queued again by the sweep. Keep it above OPENEDX_RETRY_BACKOFF_MAX_SECONDS, or copies that
# are only waiting for their next retry are queued twice.
OPENEDX_COPY_REQUEUE_AFTER_SECONDS = get_int("OPENEDX_COPY_REQUEUE_AFTER_SECONDS", 1800)
# The health report (docs/operations.md, "Health report").
# B2B_HEALTH_INTERVAL_SECONDS: how often Celery beat runs the report, which logs its findings and
# mails B2B_STAFF_ALERT_EMAILS the new ones.
B2B_HEALTH_INTERVAL_SECONDS = get_int("B2B_HEALTH_INTERVAL_SECONDS", 3600)
# B2B_HEALTH_CODES_PENDING_SECONDS: codes pending reconciliation for longer than this are a finding.
B2B_HEALTH_CODES_PENDING_SECONDS = get_int("B2B_HEALTH_CODES_PENDING_SECONDS", 3600)
# B2B_HEALTH_OPENEDX_PENDING_SECONDS: an Open edX copy or enrollment push pending with no news for
# longer than this is a finding. Keep it above OPENEDX_COPY_REQUEUE_AFTER_SECONDS, so the sweep
# has had its chance first.
B2B_HEALTH_OPENEDX_PENDING_SECONDS = get_int("B2B_HEALTH_OPENEDX_PENDING_SECONDS", 3600)
# B2B_ALERT_SEAT_PERCENTS: the shares of a capped contract's seats (percent of its learner cap)
# whose crossing e-mails the alert recipients, once each per contract.
B2B_ALERT_SEAT_PERCENTS = get_int_list("B2B_ALERT_SEAT_PERCENTS", [75, 90, 100])
# B2B_ALERT_DAYS_BEFORE_END: how many days before an active contract's end date the recipients
# are warned, once each per contract.
B2B_ALERT_DAYS_BEFORE_END = get_int_list("B2B_ALERT_DAYS_BEFORE_END", [30, 7])
# B2B_ALERT_CHECK_INTERVAL_SECONDS: how often Celery beat looks for contracts past a threshold
# (the dates, and seats filled by a path that did not send its alert) and sends what is unsent.
B2B_ALERT_CHECK_INTERVAL_SECONDS = get_int("B2B_ALERT_CHECK_INTERVAL_SECONDS", 3600)
# Invitations sent by organization managers (b2b.services.invitations, invitation_emails).
# B2B_INVITATION_REMINDER_DAYS: days after the invitation (or the last reminder) before an open
# invitation is reminded automatically; B2B_INVITATION_MAX_REMINDERS: at most this many.
B2B_INVITATION_REMINDER_DAYS = get_int("B2B_INVITATION_REMINDER_DAYS", 7)
B2B_INVITATION_MAX_REMINDERS = get_int("B2B_INVITATION_MAX_REMINDERS", 2)
# B2B_INVITATION_SWEEP_INTERVAL_SECONDS: how often Celery beat looks for due reminders (and
# stores the invitations redeemed since).
B2B_INVITATION_SWEEP_INTERVAL_SECONDS = get_int("B2B_INVITATION_SWEEP_INTERVAL_SECONDS", 3600)
# WAGTAIL_PUBLISH_SCHEDULED_INTERVAL_SECONDS: how often Celery beat publishes the Wagtail drafts
# whose go-live time has come (and unpublishes the expired pages): Wagtail's own
# `publish_scheduled` command, run by the task `cms.publish_scheduled`.
WAGTAIL_PUBLISH_SCHEDULED_INTERVAL_SECONDS = get_int(
    "WAGTAIL_PUBLISH_SCHEDULED_INTERVAL_SECONDS", 60
)
# B2B_INVITATION_BATCH_SIZE: rows of an invitation list handled per transaction.
B2B_INVITATION_BATCH_SIZE = get_int("B2B_INVITATION_BATCH_SIZE", 500)
# B2B_EMAIL_MAX_ATTEMPTS: attempts to send one invitation e-mail after transient failures (SMTP
# 4xx, connection errors) before it is marked failed; B2B_EMAIL_RETRY_SECONDS: the first wait,
# doubled at each retry up to B2B_EMAIL_RETRY_MAX_SECONDS.
B2B_EMAIL_MAX_ATTEMPTS = get_int("B2B_EMAIL_MAX_ATTEMPTS", 5)
B2B_EMAIL_RETRY_SECONDS = get_int("B2B_EMAIL_RETRY_SECONDS", 60)
B2B_EMAIL_RETRY_MAX_SECONDS = get_int("B2B_EMAIL_RETRY_MAX_SECONDS", 900)
# B2B_INVITATION_REMIND_COOLDOWN_SECONDS: an open invitation is not reminded again (by a manager's
# page, the API or the automatic reminders) within this many seconds of its last invitation or
# reminder e-mail.
B2B_INVITATION_REMIND_COOLDOWN_SECONDS = get_int("B2B_INVITATION_REMIND_COOLDOWN_SECONDS", 3600)
# B2B_INVITATION_REQUEUE_AFTER_SECONDS: a manager's invite job or an invitation e-mail still
# queued this long after it was (last) queued, with nothing picking it up, is queued again by
# the sweep (every PENDING_SWEEP_INTERVAL_SECONDS) and is a health finding until it runs.
B2B_INVITATION_REQUEUE_AFTER_SECONDS = get_int("B2B_INVITATION_REQUEUE_AFTER_SECONDS", 600)
# B2B_INVITE_JOB_STALE_SECONDS: a running invite job whose worker has given no sign of life (a
# batch committed) for this long is taken to be abandoned (its worker died): another run may
# take it over, and the sweep queues it again. Keep it below CELERY_VISIBILITY_TIMEOUT_SECONDS,
# so that the broker's own redelivery of a dead worker's job can carry it on.
B2B_INVITE_JOB_STALE_SECONDS = get_int("B2B_INVITE_JOB_STALE_SECONDS", 600)
for _name in ("B2B_INVITATION_MAX_REMINDERS", "B2B_INVITATION_REMIND_COOLDOWN_SECONDS"):
    if globals()[_name] < 0:
        raise ImproperlyConfigured(f"{_name} must not be negative")
for _name in (
    "B2B_INVITATION_REMINDER_DAYS",
    "B2B_INVITATION_BATCH_SIZE",
    "B2B_EMAIL_MAX_ATTEMPTS",
    "B2B_INVITATION_REQUEUE_AFTER_SECONDS",
    "B2B_INVITE_JOB_STALE_SECONDS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1")

CELERY_BEAT_SCHEDULE = {
    "b2b-health-report": {
        "task": "b2b.health_report",
        "schedule": timedelta(seconds=B2B_HEALTH_INTERVAL_SECONDS),
    },
    "requeue-pending-codes": {
        "task": "b2b.requeue_pending_codes",
        "schedule": timedelta(seconds=PENDING_SWEEP_INTERVAL_SECONDS),
    },
    "requeue-stuck-edx-copies": {
        "task": "courses.requeue_stuck_edx_copies",
        "schedule": timedelta(seconds=PENDING_SWEEP_INTERVAL_SECONDS),
    },
    "contract-alerts": {
        "task": "b2b.check_contract_alerts",
        "schedule": timedelta(seconds=B2B_ALERT_CHECK_INTERVAL_SECONDS),
    },
    "requeue-invitation-work": {
        "task": "b2b.requeue_invitation_work",
        "schedule": timedelta(seconds=PENDING_SWEEP_INTERVAL_SECONDS),
    },
    "send-invitation-reminders": {
        "task": "b2b.send_invitation_reminders",
        "schedule": timedelta(seconds=B2B_INVITATION_SWEEP_INTERVAL_SECONDS),
    },
    "publish-scheduled-pages": {
        "task": "cms.publish_scheduled",
        "schedule": timedelta(seconds=WAGTAIL_PUBLISH_SCHEDULED_INTERVAL_SECONDS),
    },
}
# CELERY_VISIBILITY_TIMEOUT_SECONDS: with Redis as the broker, how long a task a worker has taken
# may stay unacknowledged before Redis gives it to another worker (the first one died). It must
# be longer than the longest task and than the longest wait before a retry (a task waiting for
# its retry is unacknowledged too), or the task runs twice.
CELERY_VISIBILITY_TIMEOUT_SECONDS = get_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 1200)
_longest_retry_wait = max(
    OPENEDX_RETRY_BACKOFF_MAX_SECONDS,
    DATABASE_CONFLICT_RETRY_MAX_SECONDS,
    B2B_EMAIL_RETRY_MAX_SECONDS,
)
if _longest_retry_wait >= CELERY_VISIBILITY_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT_SECONDS must be longer than OPENEDX_RETRY_BACKOFF_MAX_SECONDS, "
        "DATABASE_CONFLICT_RETRY_MAX_SECONDS and B2B_EMAIL_RETRY_MAX_SECONDS"
    )
if B2B_INVITE_JOB_STALE_SECONDS >= CELERY_VISIBILITY_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "B2B_INVITE_JOB_STALE_SECONDS must be shorter than CELERY_VISIBILITY_TIMEOUT_SECONDS"
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS}

# CyberSource Secure Acceptance, through mitol-django-payment-gateway.
# ECOMMERCE_DEFAULT_PAYMENT_GATEWAY: the gateway name; CyberSource is the one we use.
ECOMMERCE_DEFAULT_PAYMENT_GATEWAY = get_str("ECOMMERCE_DEFAULT_PAYMENT_GATEWAY", "CyberSource")
# MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURE_ACCEPTANCE_URL: the hosted payment form's address.
MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURE_ACCEPTANCE_URL = get_str(
    "MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURE_ACCEPTANCE_URL"
)
# MITOL_PAYMENT_GATEWAY_CYBERSOURCE_PROFILE_ID / _ACCESS_KEY / _SECURITY_KEY: the Secure
# Acceptance profile, and the key pair that signs requests and verifies receipts.
MITOL_PAYMENT_GATEWAY_CYBERSOURCE_PROFILE_ID = get_str(
    "MITOL_PAYMENT_GATEWAY_CYBERSOURCE_PROFILE_ID"
)
MITOL_PAYMENT_GATEWAY_CYBERSOURCE_ACCESS_KEY = get_str(
    "MITOL_PAYMENT_GATEWAY_CYBERSOURCE_ACCESS_KEY"
)
MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURITY_KEY = get_str(
    "MITOL_PAYMENT_GATEWAY_CYBERSOURCE_SECURITY_KEY"
)
# MITOL_PAYMENT_GATEWAY_CYBERSOURCE_MERCHANT_ID / _MERCHANT_SECRET / _MERCHANT_SECRET_KEY_ID /
# _REST_API_ENVIRONMENT: the REST API credentials (refunds, transaction look-ups).
MITOL_PAYMENT_GATEWAY_CYBERSOURCE_MERCHANT_ID = get_str(
    "MITOL_PAYMENT_GATEWAY_CYBERSOURCE_MERCHANT_ID", ""
)
MITOL_PAYMENT_GATEWAY_CYBERSOURCE_MERCHANT_SECRET = get_str(
    "MITOL_PAYMENT_GATEWAY_CYBERSOURCE_MERCHANT_SECRET"
)
MITOL_PAYMENT_GATEWAY_CYBERSOURCE_MERCHANT_SECRET_KEY_ID = get_str(
    "MITOL_PAYMENT_GATEWAY_CYBERSOURCE_MERCHANT_SECRET_KEY_ID"
)
MITOL_PAYMENT_GATEWAY_CYBERSOURCE_REST_API_ENVIRONMENT = get_str(
    "MITOL_PAYMENT_GATEWAY_CYBERSOURCE_REST_API_ENVIRONMENT", "apitest.cybersource.com"
)

# Single sign-on through Keycloak (OpenID Connect, social-auth-app-django).
# SOCIAL_AUTH_OIDC_OIDC_ENDPOINT: the realm's issuer, e.g. https://sso.example.edu/realms/learn
SOCIAL_AUTH_OIDC_OIDC_ENDPOINT = get_str("SOCIAL_AUTH_OIDC_OIDC_ENDPOINT")
# SOCIAL_AUTH_OIDC_KEY / SOCIAL_AUTH_OIDC_SECRET: this site's client id and secret in the realm.
SOCIAL_AUTH_OIDC_KEY = get_str("SOCIAL_AUTH_OIDC_KEY")
SOCIAL_AUTH_OIDC_SECRET = get_str("SOCIAL_AUTH_OIDC_SECRET")
# SOCIAL_AUTH_OIDC_ORGANIZATION_CLAIM: the claim that lists the learner's organizations.
SOCIAL_AUTH_OIDC_ORGANIZATION_CLAIM = get_str("SOCIAL_AUTH_OIDC_ORGANIZATION_CLAIM", "organization")
# SOCIAL_AUTH_OIDC_SCOPE: scopes asked for besides openid, profile and email (Keycloak only sends
# the organization claim when its "organization" scope is requested).
SOCIAL_AUTH_OIDC_SCOPE = get_list("SOCIAL_AUTH_OIDC_SCOPE", ["organization"])
SOCIAL_AUTH_LOGIN_REDIRECT_URL = "/dashboard/"
SOCIAL_AUTH_LOGIN_ERROR_URL = "/"
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    "users.pipeline.find_or_create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "users.pipeline.update_user_from_claims",
    "users.pipeline.attach_sso_contracts",
)

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
