"""`kizuna import` and `kizuna export` on the command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from kizuna.core.models import AuditEntry, Role
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.models import Account
from kizuna.integrations.tests.files import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    ["取引先ID", "会社名", "業種"],
    ["SF-1", "株式会社サクラ物流", "logistics"],
    ["SF-2", "ミドリ精機", "manufacturing"],
]


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_dry_run_reports_and_changes_nothing(tmp_path) -> None:
    path = tmp_path / "accounts.xlsx"
    path.write_bytes(xlsx_bytes(ROWS))
    out, _err = _run("accounts", str(path), "--dry-run")
    assert "2 to create, 0 to update, 0 unchanged, 0 rows with errors" in out
    assert "会社名 → name" in out
    assert not Account.objects.exists()


def test_import_applies_under_the_given_user(tmp_path) -> None:
    user = UserFactory.create(username="hanako", role=Role.CSM)
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes(ROWS, encoding="cp932"))
    out, _err = _run("accounts", str(path), "--user", "hanako")
    assert "2 created, 0 updated" in out
    assert Account.objects.count() == 2
    assert set(AuditEntry.objects.values_list("actor", flat=True)) == {user.pk}
    again, _err = _run("accounts", str(path), "--user", "hanako")
    assert "0 created, 0 updated, 2 unchanged" in again
    assert "Nothing to change." in again


def test_problems_are_listed_and_the_command_fails(tmp_path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes([*ROWS, ["SF-3", "", "宇宙"]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("import", "accounts", str(path), stdout=io.StringIO(), stderr=err)
    assert "row 4, 会社名: This field is required." in err.getvalue()
    assert not Account.objects.exists()


def test_a_mapping_file_chooses_the_columns(tmp_path) -> None:
    path = tmp_path / "crm.csv"
    path.write_bytes(csv_bytes([["Id", "Nm"], ["SF-1", "株式会社サクラ物流"]]))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps({"columns": {"Id": "external_id", "Nm": "name"}}), encoding="utf-8"
    )
    _run("accounts", str(path), "--mapping", str(mapping))
    assert Account.objects.get().name == "株式会社サクラ物流"


def test_an_invalid_mapping_is_refused(tmp_path) -> None:
    path = tmp_path / "crm.csv"
    path.write_bytes(csv_bytes(ROWS))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"会社名": "revenue"}), encoding="utf-8")
    with pytest.raises(CommandError, match="“revenue” is not a field of Accounts"):
        _run("accounts", str(path), "--mapping", str(mapping))


def test_a_viewer_may_not_import(tmp_path) -> None:
    UserFactory.create(username="miru", role=Role.VIEWER)
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes(ROWS))
    with pytest.raises(CommandError, match="viewer"):
        _run("accounts", str(path), "--user", "miru")


def test_an_unreadable_file_fails_with_the_reason(tmp_path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b'id,name\r\nSF-1,"open\r\n')
    with pytest.raises(CommandError, match="closing quote"):
        _run("accounts", str(path))


def test_export_writes_a_file_the_import_takes(tmp_path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes(ROWS))
    _run("accounts", str(path))
    exported = tmp_path / "export.xlsx"
    call_command("export", "accounts", str(exported), stdout=io.StringIO())
    out, _err = _run("accounts", str(exported), "--dry-run")
    assert "0 to create, 0 to update, 2 unchanged, 0 rows with errors" in out


def test_the_command_is_called_kizuna_import() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kizuna", "import", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage: kizuna import" in result.stdout
    assert "--dry-run" in result.stdout


def test_kizuna_help_lists_the_export_command() -> None:
    from kizuna.cli import usage

    commands = {line.split()[0] for line in usage().splitlines() if line.startswith("  ")}
    assert "export" in commands
