"""One error body for every failure, the OpenAPI schema that documents it, and the
interactive docs served from local files only."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/ErrorBody"


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_malformed_json_is_a_400(api) -> None:
    response = api.client.post(
        "/api/v1/accounts", "{not json", content_type="application/json", headers=api.headers
    )

    assert response.status_code == 400
    assert _error(response)["code"] == "bad_request"


def test_a_body_over_the_size_limit_is_a_413(api, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api.post("/api/v1/accounts", {"name": "x" * 2000})

    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"


def test_validation_errors_name_each_field(api) -> None:
    response = api.get("/api/v1/accounts", limit=1000, ordering="sideways")

    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"limit", "ordering"}


def test_text_with_a_nul_character_is_a_422(api) -> None:
    response = api.post("/api/v1/accounts", {"name": "株式会社\x00ヒカリ"})
    lookup = api.get("/api/v1/accounts", external_id="SF\x00")

    assert response.status_code == 422
    assert lookup.status_code == 422


def test_a_time_outside_the_supported_years_is_a_422(api) -> None:
    response = api.get("/api/v1/accounts", updated_since="0001-01-01T00:00:00+14:00")

    assert response.status_code == 422
    assert "updated_since" in _error(response)["fields"]


def test_an_unknown_api_path_is_a_json_404(api) -> None:
    response = api.get("/api/v1/accounts/1/nothing-here")

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_an_unsupported_method_is_a_json_405(api) -> None:
    response = api.client.put("/api/v1/accounts", headers=api.headers)

    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]


def test_error_messages_follow_the_request_language(api) -> None:
    response = api.client.post(
        "/api/v1/accounts",
        '{"name": " "}',
        content_type="application/json",
        headers={**api.headers, "Accept-Language": "ja"},
    )

    with translation.override("ja"):
        required = translation.gettext("This field is required.")
    assert response.status_code == 422
    assert required != "This field is required."
    assert _error(response)["fields"]["name"] == [required]


def test_the_schema_is_served_without_credentials() -> None:
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/accounts",
        "/api/v1/accounts/{account_id}",
        "/api/v1/accounts/by-external-id/{external_id}",
        "/api/v1/contacts",
        "/api/v1/subscriptions",
        "/api/v1/opportunities",
        "/api/v1/touchpoints",
    ):
        assert path in schema["paths"]
    assert {"ApiKeyBearer", "ApiKeyHeader"} <= set(schema["components"]["securitySchemes"])


def test_every_operation_documents_its_error_responses() -> None:
    schema = Client().get("/api/v1/openapi.json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"400", "401", "403", "422", "429"}
            if "{" in path:
                expected.add("404")
            if method in ("post", "put", "patch"):
                expected |= {"409", "413"}
            assert expected <= set(responses), f"{method} {path}"
            for code in expected:
                content = responses[code]["content"]["application/json"]["schema"]
                assert content == {"$ref": ERROR_REF}, f"{method} {path} {code}"


def test_the_api_root_points_to_the_schema_and_docs() -> None:
    response = Client().get("/api/v1/")

    assert response.json() == {
        "name": "Kizuna API",
        "version": "1",
        "openapi": "/api/v1/openapi.json",
        "docs": "/api/v1/docs",
    }


def test_the_docs_page_needs_a_signed_in_user() -> None:
    response = Client().get("/api/v1/docs")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_docs_page_loads_nothing_from_outside(csm_client) -> None:
    response = csm_client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets)
    assert "http://" not in html and "https://" not in html
    # Swagger UI's online validator badge would call validator.swagger.io.
    assert '"validatorUrl": null' in html


def test_the_docs_page_static_files_are_served(csm_client) -> None:
    html = csm_client.get("/api/v1/docs").content.decode()

    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert csm_client.get(asset).status_code == 200, asset


def test_operation_ids_are_short_and_unique() -> None:
    schema = Client().get("/api/v1/openapi.json").json()

    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]

    assert len(ids) == len(set(ids))
    assert "list_accounts" in ids and "upsert_account" in ids
