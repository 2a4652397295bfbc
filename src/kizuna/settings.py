"""Django settings for Kizuna, read from the environment (see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from kizuna import env

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = env.data_dir()

SECRET_KEY = env.secret_key(DATA_DIR)
DEBUG = env.env_bool("KIZUNA_DEBUG", False)
ALLOWED_HOSTS = env.env_list("KIZUNA_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.env_list("KIZUNA_CSRF_TRUSTED_ORIGINS", [])
BASE_URL = env.env_str("KIZUNA_BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_tasks_db",
    "django_rq",
    "django_tasks_rq",
    "ninja",
    "kizuna.core",
    "kizuna.customers",
    "kizuna.usage",
    "kizuna.lifecycle",
    "kizuna.milestones",
    "kizuna.health",
    "kizuna.segments",
    "kizuna.playbooks",
    "kizuna.flows",
    "kizuna.engagement",
    "kizuna.integrations",
    "kizuna.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kizuna.urls"
WSGI_APPLICATION = "kizuna.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kizuna.core.context_processors.kizuna",
            ],
            "builtins": [
                "django.templatetags.i18n",
                "django.contrib.humanize.templatetags.humanize",
                "kizuna.core.templatetags.kizuna",
            ],
        },
    }
]

DATABASES = {"default": env.database_config(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "customers:home"
LOGOUT_REDIRECT_URL = "core:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after this many failures for one user name from one address the login
# is locked for the cool-off period; the lock applies to that pair only, so an attacker
# cannot lock a colleague out from elsewhere.
AXES_FAILURE_LIMIT = env.env_int("KIZUNA_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_secure = env.env_bool("KIZUNA_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
if env.env_bool("KIZUNA_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = env.env_choice("KIZUNA_LANGUAGE", "ja", ["ja", "en"])
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.env_timezone("KIZUNA_TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = env.env_str("KIZUNA_CURRENCY", "JPY")

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Assets are served from the installed packages directly, so `kizuna serve` needs no
# collectstatic step and nothing is ever fetched from a CDN.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Mail: SMTP when a host is configured; otherwise messages are written as files under the
# data directory so that password-reset links can be read on a closed network.
_smtp_host = env.env_str("KIZUNA_SMTP_HOST", "")
if _smtp_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp_host,
                "port": env.env_int("KIZUNA_SMTP_PORT", 587, minimum=1),
                "username": env.env_str("KIZUNA_SMTP_USER", ""),
                "password": env.env_str("KIZUNA_SMTP_PASSWORD", ""),
                "use_tls": env.env_bool("KIZUNA_SMTP_STARTTLS", True),
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(DATA_DIR / "mail")},
        }
    }
DEFAULT_FROM_EMAIL = env.env_str("KIZUNA_FROM_EMAIL", "kizuna@localhost")

# Tech-touch email (kizuna.engagement) goes out through the same SMTP server, from its own
# worker with throttling and retries. Without KIZUNA_SMTP_HOST it stays queued (and says so),
# except under `kizuna demo`, which starts a local mail catcher (see engagement/mailbox.py).
ENGAGEMENT_SMTP = {
    "host": _smtp_host,
    "port": env.env_int("KIZUNA_SMTP_PORT", 587, minimum=1),
    "username": env.env_str("KIZUNA_SMTP_USER", ""),
    "password": env.env_str("KIZUNA_SMTP_PASSWORD", ""),
    "starttls": env.env_bool("KIZUNA_SMTP_STARTTLS", True),
    "timeout": env.env_int("KIZUNA_SMTP_TIMEOUT", 30, minimum=1),
}
# Bounce mailbox read over IMAP when set, e.g. imaps://bounces:secret@mail.example.jp/INBOX
ENGAGEMENT_BOUNCE_IMAP_URL = env.env_str("KIZUNA_BOUNCE_IMAP_URL", "")
# Links in emails (tracking, unsubscribe) and kizuna.js point here: Kizuna's public address.
ENGAGEMENT_PUBLIC_URL = env.env_str("KIZUNA_PUBLIC_URL", BASE_URL)

# "backtest": a scorecard backtest's scores, shared by the web processes and the worker.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "backtest": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache" / "backtest"),
        "OPTIONS": {"MAX_ENTRIES": 100},
    },
}

# Background work: a database-backed queue by default (the worker starts with
# `kizuna serve`); KIZUNA_TASKS=redis uses a Redis queue with any number of `kizuna worker`s.
TASKS_BACKEND = env.env_choice("KIZUNA_TASKS", "database", ["database", "redis"])
REDIS_URL = env.env_str("KIZUNA_REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL}}
if TASKS_BACKEND == "redis":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.env_str("KIZUNA_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
