"""The REST API fuzzed against its own live OpenAPI schema with schemathesis: whatever a
client sends — valid or not — the answer is never a 5xx, its status code and content type
are documented for the operation, and its body matches the documented schema.

Requests go through Django's WSGI application in-process, inside the test's transaction,
authenticated with an admin key (the role that may do everything).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kizuna.api import services
from kizuna.core.models import Role
from kizuna.customers.tests.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
    TouchpointFactory,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _same_connection() -> Iterator[None]:
    # Like Django's test client: do not close the test's connection (and its transaction)
    # at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db, _same_connection) -> str:
    # A little data, so that lists have rows and some generated ids exist.
    account = AccountFactory.create(external_id="SF-1")
    ContactFactory.create(account=account, external_id="C-1")
    SubscriptionFactory.create(account=account, external_id="S-1")
    OpportunityFactory.create(account=account, external_id="O-1")
    TouchpointFactory.create(account=account)
    _key, token = services.create_api_key(
        None, name="schemathesis", role=Role.ADMIN, rate_limit_per_minute=0
    )
    return token


# The schema as the running application serves it (reading it touches no database).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_answers_as_documented(case, admin_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
