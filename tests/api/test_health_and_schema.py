"""Health check and OpenAPI schema."""

import json

import pytest
from django.db import DatabaseError

pytestmark = pytest.mark.django_db


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b'{"status":"ok"}')


def test_healthz_503_when_database_fails(client, monkeypatch):
    class BrokenCursor:
        def __enter__(self):
            raise DatabaseError("could not connect")

        def __exit__(self, *args):
            return False

    monkeypatch.setattr("lookup.api.views.connection.cursor", lambda: BrokenCursor())
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (503, b'{"error":"Database unavailable; try again shortly"}')


def test_schema_describes_both_methods_auth_and_all_responses(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    operation = schema["paths"]["/api/customer/lookup"]
    assert set(operation) == {"get", "post"}
    for method in ("get", "post"):
        assert set(operation[method]["responses"]) == {"200", "400", "401", "413", "415", "429", "500", "503"}
        assert operation[method]["security"] == [{"BearerToken": []}]
    assert schema["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    assert [p["name"] for p in operation["get"]["parameters"]] == ["phoneNumber"]
    assert "phoneNumber" in schema["components"]["schemas"]["LookupRequest"]["properties"]


def test_docs_page_served_without_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr" not in page
