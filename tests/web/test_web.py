"""The web face: every page has a JSON twin; errors have one JSON shape."""

from __future__ import annotations

from fastapi.testclient import TestClient

from parley.web.app import create_app


def test_pages_and_json_twins(workspace) -> None:
    client = TestClient(create_app(workspace))
    data = client.get("/status.json").json()
    assert data["files"] == 0 and data["by_payer"] == []
    page = client.get("/status")
    assert page.status_code == 200 and "<h1>Workspace</h1>" in page.text
    assert client.get("/tables.json").json()[0]["table"] == "remittances"
    assert client.get("/problems.json").json() == []
    assert client.get("/", follow_redirects=False).headers["location"] == "/status"


def test_error_shape_is_pinned(workspace) -> None:
    client = TestClient(create_app(workspace))
    response = client.get("/problems.json?limit=lots")
    assert response.status_code == 400
    assert response.json() == {"error": {"type": "InputError", "message": "limit must be a whole number", "hint": None}}
    page = client.get("/problems?limit=lots")
    assert page.status_code == 400 and "whole number" in page.text
