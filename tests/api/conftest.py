import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from segments.services import Actor, api_key_create

ALL_SCOPES = ("read", "write", "ingest")


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    # Throttle counts live in the cache, which outlives each test's transaction.
    cache.clear()


def client_for(key: str, header: str = "X-API-Key", **kwargs) -> APIClient:
    client = APIClient(**kwargs)
    if header == "Bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    else:
        client.credentials(HTTP_X_API_KEY=key)
    return client


def new_key(*scopes: str, name: str = "CRM sync", **kwargs):
    return api_key_create(
        name=name, scopes=list(scopes), actor=Actor.system("tests"), **kwargs
    )


@pytest.fixture
def api_key(db):
    return new_key(*ALL_SCOPES)


@pytest.fixture
def api(api_key) -> APIClient:
    """A client whose key has every scope."""
    return client_for(api_key.key)


@pytest.fixture
def reader(db) -> APIClient:
    return client_for(new_key("read", name="Dashboard").key)


def assert_error(response, status_code: int, *, field: str | None = None):
    """The body is the API's error format; returns its message."""
    body = response.json()
    assert response.status_code == status_code, body
    assert body["statusCode"] == status_code
    assert body["error"] and body["message"]
    if field is not None:
        assert field in body["details"], body
    return body["message"]
