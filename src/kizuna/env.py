"""Strict readers for the environment.

Every setting Kizuna takes from the environment goes through one of these helpers, so a
typo in a deployment fails at start-up with a message that names the variable, instead of
running with a silently wrong value.
"""

from __future__ import annotations

import os
import secrets
import zoneinfo
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(name, default)


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    if name not in environ:
        return default
    value = environ[name].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={environ[name]!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(
    name: str,
    default: int,
    environ: Mapping[str, str] | None = None,
    *,
    minimum: int | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    if name not in environ:
        return default
    try:
        value = int(environ[name])
    except ValueError:
        raise ImproperlyConfigured(f"{name}={environ[name]!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    if name not in environ:
        return default
    return [item.strip() for item in environ[name].split(",") if item.strip()]


def env_choice(
    name: str, default: str, choices: list[str], environ: Mapping[str, str] | None = None
) -> str:
    environ = os.environ if environ is None else environ
    value = environ.get(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
    return value


def env_timezone(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    value = environ.get(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a time zone name such as Asia/Tokyo or UTC."
        ) from None
    return value


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The directory that holds the embedded database, the generated secret key and mail."""
    environ = os.environ if environ is None else environ
    raw = environ.get("KIZUNA_DATA_DIR", "")
    path = Path(raw).expanduser() if raw else Path.cwd() / "data"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"KIZUNA_DATA_DIR={str(path)!r} cannot be created or used: {exc.strerror}."
        ) from None
    return path.resolve()


def database_config(directory: Path, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Parse KIZUNA_DATABASE_URL; default to an SQLite file in the data directory.

    SQLite runs in WAL mode with IMMEDIATE transactions and a generous busy timeout, so the web
    server and the built-in worker can write at the same time without "database is locked".
    """
    import dj_database_url

    environ = os.environ if environ is None else environ
    url = environ.get("KIZUNA_DATABASE_URL", "")
    if not url:
        url = f"sqlite:///{directory / 'kizuna.sqlite3'}"
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=0))
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(
            f"KIZUNA_DATABASE_URL is not a database URL Kizuna understands ({exc}). "
            "Use sqlite:////path/to/file.sqlite3 or postgres://user@host:5432/name."
        ) from None
    engine = str(config.get("ENGINE", ""))
    if engine == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    elif engine == "django.db.backends.postgresql":
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(
            f"KIZUNA_DATABASE_URL uses an unsupported database ({engine}): "
            "Kizuna runs on SQLite and PostgreSQL."
        )
    config.setdefault("TEST", {})
    return config


def secret_key(directory: Path, environ: Mapping[str, str] | None = None) -> str:
    """KIZUNA_SECRET_KEY, else a key generated once and kept in the data directory."""
    environ = os.environ if environ is None else environ
    key = environ.get("KIZUNA_SECRET_KEY", "")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("KIZUNA_SECRET_KEY must be at least 32 characters long.")
        return key
    path = directory / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    # Written with owner-only permissions: anyone who reads it can forge sessions.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
