"""Email templates in the REST API: list and read with content, create, new versions (bad
content is a 422 naming field, line and column), senders; only writers write."""

from __future__ import annotations

from typing import Any

import pytest
from ninja.testing import TestClient

from kizuna.api import services as api_services
from kizuna.api.api import api as kizuna_api
from kizuna.core.models import Role
from kizuna.engagement.api_templates import router
from kizuna.engagement.models import EmailTemplate
from kizuna.engagement.tests.factories import CategoryFactory, EmailTemplateFactory, SenderFactory

pytestmark = pytest.mark.django_db


def _api() -> Any:
    """The site's API once the router is mounted there; until then the same API (auth and
    error handlers) with only this router."""
    mounted = getattr(router, "api", None)
    if mounted is not None:
        return mounted
    from kizuna.api.api import KizunaAPI

    test_api = KizunaAPI(auth=kizuna_api.auth, urls_namespace="engagement-templates-test")
    test_api._exception_handlers = dict(kizuna_api._exception_handlers)
    test_api.add_router("", router)
    return test_api


API = _api()


class Client:
    def __init__(self, role: str) -> None:
        _key, token = api_services.create_api_key(None, name=f"Templates {role}", role=role)
        self.client = TestClient(API)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(path, headers=self.headers, query_params=query or None)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(path, json=body, headers=self.headers)


@pytest.fixture
def api(db) -> Client:
    return Client(Role.CSM)


CONTENT = {
    "subject_ja": "{{ account.name }} 様",
    "html_ja": "<p>本文</p>",
    "text_ja": "本文",
}


def test_templates_are_listed_with_their_version(api: Client) -> None:
    template = EmailTemplateFactory.create(team="CS")
    body = api.get("/email-templates", team="CS").json()
    assert [(row["key"], row["version"]) for row in body["results"]] == [(template.key, 1)]


def test_a_template_is_read_with_its_current_content(api: Client) -> None:
    template = EmailTemplateFactory.create(text_ja="本文です")
    body = api.get(f"/email-templates/{template.pk}").json()
    assert body["current"]["text_ja"] == "本文です"
    assert body["category"] == template.category.key


def test_a_template_is_created(api: Client) -> None:
    category = CategoryFactory.create(key="news")
    response = api.post(
        "/email-templates", {"key": "hello", "name": "こんにちは", "category": "news", **CONTENT}
    )
    assert response.status_code == 201
    assert response.json()["current"]["number"] == 1
    assert EmailTemplate.objects.get(key="hello").category == category


def test_bad_content_is_a_422_naming_field_line_and_column(api: Client) -> None:
    template = EmailTemplateFactory.create()
    response = api.post(
        f"/email-templates/{template.pk}/versions",
        {**CONTENT, "text_ja": "一行目\n{{ contact.nme }}"},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_template"
    assert error["fields"] == {"text_ja": ["Line 2, column 1: unknown variable contact.nme"]}
    assert template.versions.count() == 1


def test_a_new_version_is_saved_and_unchanged_content_is_not(api: Client) -> None:
    template = EmailTemplateFactory.create()
    first = api.post(f"/email-templates/{template.pk}/versions", CONTENT)
    again = api.post(f"/email-templates/{template.pk}/versions", CONTENT)
    assert (first.status_code, first.json()["number"]) == (201, 2)
    assert (again.status_code, again.json()["number"]) == (200, 2)


def test_viewers_only_read(db) -> None:
    viewer = Client(Role.VIEWER)
    template = EmailTemplateFactory.create()
    assert viewer.get(f"/email-templates/{template.pk}").status_code == 200
    assert viewer.post(f"/email-templates/{template.pk}/versions", CONTENT).status_code == 403
    assert template.versions.count() == 1


def test_senders_are_listed(api: Client) -> None:
    sender = SenderFactory.create(name="CS 窓口")
    names = [row["name"] for row in api.get("/email-senders").json()]
    assert sender.name in names
