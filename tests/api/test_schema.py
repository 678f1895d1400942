import re

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
