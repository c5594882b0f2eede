"""The Django core of the settings: security, the database, the apps and middleware, sign-in,
the cache, static files, e-mail and Wagtail."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import get_bool, get_int, get_list, get_proxy_header, get_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

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

# Wagtail
WAGTAIL_SITE_NAME = "B2B contracts"
WAGTAILADMIN_BASE_URL = SITE_BASE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
