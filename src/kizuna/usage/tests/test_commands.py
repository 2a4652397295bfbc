"""`kizuna sources` and `kizuna usage` on the command line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from kizuna.customers.tests.factories import ContactFactory
from kizuna.usage.models import AccountDailyUsage, Source
from kizuna.usage.tests.helpers import at, post, store, track

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sources_create_prints_a_working_write_key():
    out, err = run("sources", "create", "Backend")

    key = out.strip()
    assert "shown only now" in err
    assert Source.objects.get().name == "Backend"
    assert post(Client(), "/v1/track", track("u", "A"), key=key).status_code == 200


def test_sources_list_shows_the_key_prefix_only():
    key, _err = run("sources", "create", "Backend")

    out, _err = run("sources", "list")

    assert "Backend" in out and key.strip()[:8] in out and key.strip() not in out


def test_sources_disable_by_name():
    key, _err = run("sources", "create", "Backend")

    run("sources", "disable", "Backend")

    assert post(Client(), "/v1/track", track("u", "A"), key=key.strip()).status_code == 403


def test_sources_rotate_by_id():
    old, _err = run("sources", "create", "Backend")

    new, _err = run("sources", "rotate", str(Source.objects.get().pk))

    assert post(Client(), "/v1/track", track("u", "A"), key=old.strip()).status_code == 401
    assert post(Client(), "/v1/track", track("u", "A"), key=new.strip()).status_code == 200


def test_sources_unknown_source_is_an_error():
    with pytest.raises(CommandError, match="no data source"):
        run("sources", "disable", "nothing")


def test_sources_create_needs_a_real_name():
    with pytest.raises(CommandError, match="name"):
        run("sources", "create", "  ")


def test_usage_rollup_and_status():
    ContactFactory.create(product_user_id="u0")
    store([("u0", "A", at())], roll_up=False)

    out, _err = run("usage", "rollup")
    status, _err = run("usage", "status")

    assert "Rolled up 1 events" in out
    assert "(0 waiting)" in status


def test_usage_rebuild_a_day_range():
    ContactFactory.create(product_user_id="u0")
    store([("u0", "A", at(1)), ("u0", "A", at())])
    AccountDailyUsage.objects.update(count=0)

    out, _err = run("usage", "rebuild", "--from", str(at(1).date()), "--to", str(at().date()))

    assert "from 2 events" in out
    assert AccountDailyUsage.objects.get(type="", day=at().date()).count == 1


def test_usage_rebuild_needs_days():
    with pytest.raises(CommandError, match="--from"):
        run("usage", "rebuild")


def test_usage_rebuild_rejects_a_bad_date():
    with pytest.raises(CommandError, match="not a date"):
        run("usage", "rebuild", "--from", "2025-13-01")
