import re

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate
from rest_framework.test import APIClient


def schema(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema__generated__valid_openapi_with_both_key_schemes(db):
    spec = schema(APIClient())

    validate(spec)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert schemes["BearerKey"]["scheme"] == "bearer"
    add = spec["paths"]["/api/v1/segments/{segment_id}/add_customers"]["post"]
    assert {"ApiKeyHeader": []} in add["security"]
    assert "Idempotency-Key" in [p["name"] for p in add["parameters"]]
    assert "default" in add["responses"]  # the error body


def test_schema__generation__no_warnings(tmp_path):
    # --fail-on-warn: an endpoint the generator cannot describe fails here.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yml"
    )


def test_docs__page_and_its_script__served_locally(db, settings):
    settings.WHITENOISE_USE_FINDERS = True  # as collectstatic would in production
    client = APIClient()

    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/schema/" in html
    script = re.search(r'src="([^"]*swagger-ui-bundle\.js)"', html)
    assert script, "the page loads Swagger UI from this server"
    asset = client.get(script.group(1))
    assert asset.status_code == 200
    assert b"SwaggerUI" in b"".join(asset.streaming_content)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/{customer_id}",
        "/api/v1/campaigns/{campaign_id}/users/{user_id}",
    ],
)
def test_schema__deletes_that_answer_a_body__declare_200_not_204(db, path):
    responses = schema(APIClient())["paths"][path]["delete"]["responses"]

    assert "200" in responses
    assert "204" not in responses


def test_schema__idempotency_key_and_limit__declare_their_bounds(db):
    spec = schema(APIClient())
    members = spec["paths"]["/api/v1/segments/{segment_id}/members"]["get"]
    add = spec["paths"]["/api/v1/segments/{segment_id}/add_customers"]["post"]

    key = next(p for p in add["parameters"] if p["name"] == "Idempotency-Key")
    limit = next(p for p in members["parameters"] if p["name"] == "limit")
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255)
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)
