"""Settings read from the environment fail loudly on bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kizuna import env


def test_boolean_accepts_common_spellings() -> None:
    assert env.env_bool("X", False, {"X": "Yes"}) is True
    assert env.env_bool("X", True, {"X": "off"}) is False


def test_boolean_rejects_anything_else_naming_the_variable() -> None:
    with pytest.raises(ImproperlyConfigured, match="KIZUNA_DEBUG='maybe'"):
        env.env_bool("KIZUNA_DEBUG", False, {"KIZUNA_DEBUG": "maybe"})


def test_integer_rejects_words_and_values_below_minimum() -> None:
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env.env_int("N", 1, {"N": "ten"})
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.env_int("N", 1, {"N": "0"}, minimum=1)


def test_time_zone_must_exist() -> None:
    assert env.env_timezone("TZ", "Asia/Tokyo", {}) == "Asia/Tokyo"
    with pytest.raises(ImproperlyConfigured, match="Mars/Olympus"):
        env.env_timezone("TZ", "UTC", {"TZ": "Mars/Olympus"})


def test_language_must_be_supported() -> None:
    with pytest.raises(ImproperlyConfigured, match="one of: ja, en"):
        env.env_choice("KIZUNA_LANGUAGE", "ja", ["ja", "en"], {"KIZUNA_LANGUAGE": "fr"})


def test_default_database_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    config = env.database_config(tmp_path, {})
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "kizuna.sqlite3")
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]  # type: ignore[index]


def test_postgres_url_is_parsed(tmp_path: Path) -> None:
    url = "postgres://kizuna:pw@db.internal:5433/kizuna"
    config = env.database_config(tmp_path, {"KIZUNA_DATABASE_URL": url})
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "kizuna")


def test_unsupported_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="SQLite and PostgreSQL"):
        env.database_config(tmp_path, {"KIZUNA_DATABASE_URL": "mysql://root@localhost/k"})


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = env.secret_key(tmp_path, {})
    assert len(first) >= 50
    assert env.secret_key(tmp_path, {}) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="at least 32"):
        env.secret_key(tmp_path, {"KIZUNA_SECRET_KEY": "short"})


def test_unusable_data_dir_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ImproperlyConfigured, match="KIZUNA_DATA_DIR"):
        env.data_dir({"KIZUNA_DATA_DIR": str(blocker / "sub")})
