"""The systems the product talks to and its background work: Celery and the periodic tasks,
Open edX, the retries on database conflicts, the sweeps, health and alerts, the payment
gateway and single sign-on."""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.env import get_int, get_int_list, get_list, get_str

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

# B2B_PROGRESS_SYNC_HOUR: the hour (0-23, UTC) of the nightly progress sync of the live runs.
B2B_PROGRESS_SYNC_HOUR = get_int("B2B_PROGRESS_SYNC_HOUR", 2)
if not 0 <= B2B_PROGRESS_SYNC_HOUR <= 23:
    raise ImproperlyConfigured("B2B_PROGRESS_SYNC_HOUR must be an hour from 0 to 23")
# Learner progress e-mail (b2b.services.progress.nudges and .digests).
# B2B_PROGRESS_AUTO_NUDGE_INTERVAL_SECONDS: how often Celery beat nudges the learners who need
# attention in the contracts with automatic nudges (daily; each learner row is nudged at most
# once per B2B_PROGRESS_NUDGE_COOLDOWN_DAYS whatever the interval).
B2B_PROGRESS_AUTO_NUDGE_INTERVAL_SECONDS = get_int(
    "B2B_PROGRESS_AUTO_NUDGE_INTERVAL_SECONDS", 24 * 3600
)
# B2B_PROGRESS_DIGEST_HOUR: the hour (0-23, TIME_ZONE) on Monday from which the managers' weekly
# digests go out. Beat looks every B2B_PROGRESS_DIGEST_CHECK_SECONDS, so a beat missed at that
# hour still sends them at its next run that week; each manager gets one digest a week.
B2B_PROGRESS_DIGEST_HOUR = get_int("B2B_PROGRESS_DIGEST_HOUR", 7)
B2B_PROGRESS_DIGEST_CHECK_SECONDS = get_int("B2B_PROGRESS_DIGEST_CHECK_SECONDS", 3600)
if not 0 <= B2B_PROGRESS_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured("B2B_PROGRESS_DIGEST_HOUR must be an hour from 0 to 23")
for _name in ("B2B_PROGRESS_AUTO_NUDGE_INTERVAL_SECONDS", "B2B_PROGRESS_DIGEST_CHECK_SECONDS"):
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
    # Learner progress from Open edX: one sync task per live contract run, every night at
    # B2B_PROGRESS_SYNC_HOUR (config/celery.py sets that hour: a crontab here would make every
    # process that reads the settings import Celery).
    "sync-live-progress": {
        "task": "b2b.sync_live_progress",
        "schedule": timedelta(days=1),
    },
    "nudge-flagged-learners": {
        "task": "b2b.nudge_flagged_learners",
        "schedule": timedelta(seconds=B2B_PROGRESS_AUTO_NUDGE_INTERVAL_SECONDS),
    },
    "requeue-progress-nudges": {
        "task": "b2b.requeue_progress_nudges",
        "schedule": timedelta(seconds=PENDING_SWEEP_INTERVAL_SECONDS),
    },
    "send-progress-digests": {
        "task": "b2b.send_progress_digests",
        "schedule": timedelta(seconds=B2B_PROGRESS_DIGEST_CHECK_SECONDS),
    },
    "requeue-progress-digests": {
        "task": "b2b.requeue_progress_digests",
        "schedule": timedelta(seconds=PENDING_SWEEP_INTERVAL_SECONDS),
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
