"""Fixtures shared by every app's tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from kizuna.core.models import Role, User
from kizuna.core.tests.factories import UserFactory


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time() -> Iterator[None]:
    """On SQLite the test database is in memory: one connection, which the live server's
    request threads share. The account page loads several panels at once; served in
    parallel they would use that connection concurrently ("bad parameter or other API
    misuse"). A single-threaded server answers them one after the other (and closes each
    connection, so the browser never waits on an idle keep-alive)."""
    from django.conf import settings
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        yield
        return

    from kizuna.core.tests.browser import LIVE_SERVER_LOCK

    class SerialWSGIServer(WSGIServer):
        # The live server thread has already put the shared connection in place for itself,
        # and answers every request in that thread.
        def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

        def process_request(self, request: Any, client_address: Any) -> None:
            # Tests that read the database while the page talks to the server wait for the
            # request to finish (core.tests.browser.wait_for_database).
            with LIVE_SERVER_LOCK:
                super().process_request(request, client_address)

    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = SerialWSGIServer  # type: ignore[assignment]  # not threaded, on purpose
    yield
    LiveServerThread.server_class = threaded


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests that are about hashing set it back themselves.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _forget_cached_lookups() -> Iterator[None]:
    # Ingestion caches write keys and who a user id is for a few seconds per process; each
    # test starts from its own database, so it starts from empty caches too.
    from kizuna.usage import services

    services.forget_cached_sources()
    services.forget_cached_people()
    yield
    services.forget_cached_sources()
    services.forget_cached_people()


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    # Tests read English strings unless they ask for Japanese; the product default stays ja.
    settings.LANGUAGE_CODE = "en"


def _client_for(role: str) -> tuple[Client, User]:
    user = UserFactory.create(role=role)
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def admin_client_user(db) -> tuple[Client, User]:
    return _client_for(Role.ADMIN)


@pytest.fixture
def manager_client(db) -> Client:
    return _client_for(Role.MANAGER)[0]


@pytest.fixture
def csm(db) -> User:
    return UserFactory.create(role=Role.CSM)


@pytest.fixture
def csm_client(csm: User) -> Client:
    client = Client()
    client.force_login(csm)
    return client


@pytest.fixture
def viewer_client(db) -> Client:
    return _client_for(Role.VIEWER)[0]


# --- Real-browser tests (see kizuna/core/tests/browser.py) ------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from kizuna.core.tests.browser import launch_browser

    with launch_browser() as browser:
        yield browser


@pytest.fixture
def language() -> str:
    return "en"


@pytest.fixture
def page(browser: Any, language: str) -> Iterator[Any]:
    from kizuna.core.tests.browser import new_page

    with new_page(browser, language) as page:
        yield page
