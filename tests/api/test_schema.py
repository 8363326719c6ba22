"""The OpenAPI schema documents every endpoint without a warning, and the docs page serves."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_with_no_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    entry = paths["/api/v1/episodes/{id}/entries/{date}/"]
    assert {"get", "put", "delete"} <= set(entry)
    assert any(p["name"] == "date" for p in entry["put"]["parameters"])
    put_body = entry["put"]["requestBody"]["content"]
    assert list(put_body) == ["application/json"]
    assert set(entry["put"]["responses"]) >= {"200", "201"}
    listed = paths["/api/v1/episodes/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"]["$ref"].endswith("/PaginatedEpisodeList")
    components = schema["components"]["schemas"]
    entry_input = components["EntryInputRequest"]["properties"]
    assert entry_input["pain_activity"]["maximum"] == 10
    assert entry_input["pf_rom_affected"]["maximum"] == 90
    assert paths["/api/v1/auth/token/"]["post"].get("security") in (None, [], [{}])
    assert {"/api/v1/patients/", "/api/v1/episodes/{id}/interventions/"} <= set(paths)


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
