"""The `kizuna` command and its sub-commands."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from kizuna.core.models import AuditEntry, Role, User
from kizuna.core.views import server_error
from kizuna.customers.models import Account


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kizuna", "--help"], capture_output=True, text=True, check=True
    )
    for command in (
        "demo",
        "serve",
        "worker",
        "migrate",
        "createadmin",
        "seed",
        "sources",
        "import",
        "apikey",
    ):
        assert f"  {command}" in result.stdout


def test_a_bad_setting_stops_with_a_clear_message(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kizuna", "check"],
        capture_output=True,
        text=True,
        env={"KIZUNA_DATA_DIR": str(tmp_path), "KIZUNA_DEBUG": "perhaps", "PATH": ""},
    )
    assert result.returncode == 2
    assert "KIZUNA_DEBUG='perhaps' is not a boolean" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_createadmin_runs_without_questions() -> None:
    call_command(
        "createadmin", username="root", password="Kizuna-Admin-2026!", stdout=io.StringIO()
    )
    user = User.objects.get(username="root")
    assert user.role == Role.ADMIN
    assert user.check_password("Kizuna-Admin-2026!")
    assert AuditEntry.objects.filter(object_type="core.user", object_id=str(user.pk)).exists()


@pytest.mark.django_db
def test_createadmin_refuses_a_weak_password() -> None:
    with pytest.raises(CommandError, match="too weak"):
        call_command("createadmin", username="root", password="1234", stdout=io.StringIO())
    assert not User.objects.filter(username="root").exists()


@pytest.mark.django_db
def test_createadmin_resets_an_existing_user() -> None:
    call_command(
        "createadmin", username="root", password="Kizuna-Admin-2026!", stdout=io.StringIO()
    )
    call_command(
        "createadmin", username="root", password="Another-Pass-2026!", stdout=io.StringIO()
    )
    assert User.objects.get(username="root").check_password("Another-Pass-2026!")


@pytest.mark.django_db
def test_demo_prepares_once_and_reuses_what_it_made(settings, tmp_path) -> None:
    settings.DATA_DIR = tmp_path
    first = io.StringIO()
    call_command("demo", no_serve=True, accounts=20, stdout=first)
    accounts = Account.objects.count()
    second = io.StringIO()
    call_command("demo", no_serve=True, accounts=20, stdout=second)
    credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert accounts == 20
    assert Account.objects.count() == 20
    assert "reusing" in second.getvalue()
    assert credentials["password"] in second.getvalue()
    assert User.objects.get(username="admin").check_password(credentials["password"])


def test_server_error_page_needs_nothing_from_the_request() -> None:
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
