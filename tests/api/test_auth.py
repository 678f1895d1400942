from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from segments.models import ApiKey
from segments.services import Actor, api_key_revoke

from .conftest import assert_error, client_for, new_key

SEGMENTS = "/api/v1/segments"


def test_auth__key_in_x_api_key__ok(api):
    assert api.get(SEGMENTS).status_code == 200


def test_auth__key_as_bearer__ok(api_key):
    assert client_for(api_key.key, header="Bearer").get(SEGMENTS).status_code == 200


def test_auth__no_key__401_with_www_authenticate(db):
    response = APIClient().get(SEGMENTS)

    message = assert_error(response, 401)
    assert "X-API-Key" in message
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_auth__wrong_key__401(api_key):
    wrong = api_key.key[:-4] + "abcd"

    response = client_for(wrong).get(SEGMENTS)

    assert "unknown, revoked or expired" in assert_error(response, 401)


def test_auth__key_revoked__401_on_the_next_request(api, api_key):
    assert api.get(SEGMENTS).status_code == 200

    api_key_revoke(api_key=api_key.api_key, actor=Actor.system("tests"))

    assert_error(api.get(SEGMENTS), 401)


def test_auth__key_expired__401(api_key):
    ApiKey.objects.filter(pk=api_key.api_key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_error(client_for(api_key.key).get(SEGMENTS), 401)


def test_auth__read_key_writes__403_naming_the_scope(reader):
    response = reader.post(SEGMENTS, {"name": "VIP"})

    assert '"write" scope' in assert_error(response, 403)


def test_auth__write_key_ingests__403(db):
    client = client_for(new_key("read", "write").key)

    response = client.post("/api/v1/customers", {"id": "u1"})

    assert '"ingest" scope' in assert_error(response, 403)


def test_auth__ingest_key_reads__403(db):
    client = client_for(new_key("ingest").key)

    assert '"read" scope' in assert_error(client.get(SEGMENTS), 403)
