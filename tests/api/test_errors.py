import json

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from segments.api.errors import csrf_failure, handler404
from segments.models import IdempotentRequest, Segment
from segments.services import segment_create

from .conftest import assert_error, client_for


def test_errors__unknown_api_path__json_404(api):
    response = api.get("/api/v1/nothing-here")

    assert response["Content-Type"] == "application/json"
    assert "/api/v1/nothing-here" in assert_error(response, 404)


def test_errors__method_not_allowed__json_405(api):
    assert_error(api.put("/api/v1/segments", {}), 405)


def test_errors__malformed_json__400_says_so(api):
    response = api.post(
        "/api/v1/segments", data="{not json", content_type="application/json"
    )

    assert "JSON" in assert_error(response, 400)


def test_errors__form_body__415(api):
    response = api.post(
        "/api/v1/segments",
        data="name=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert_error(response, 415)


def test_errors__service_validation_error__400_with_field_details(api, static_segment):
    response = api.post("/api/v1/segments", {"name": static_segment.name.upper()})

    message = assert_error(response, 400, field="name")
    assert message.startswith("name: A segment named")


def test_errors__django_404_handler__json_for_api_paths_only(db):
    api_response = handler404(RequestFactory().get("/api/v2/x"))
    page = handler404(RequestFactory().get("/elsewhere"))

    assert api_response["Content-Type"] == "application/json"
    assert page["Content-Type"].startswith("text/html")


def test_errors__unexpected_exception__json_500_and_rolled_back(api_key, monkeypatch):
    # Given a service that fails after it wrote (a bug, or the database going away)
    def broken(**kwargs):
        segment_create(**kwargs)
        raise RuntimeError("boom")

    monkeypatch.setattr("segments.api.views.segments.segment_create", broken)
    client = client_for(api_key.key, raise_request_exception=False)

    # When it runs under an Idempotency-Key (so the view runs in a transaction)
    response = client.post(
        "/api/v1/segments", {"name": "VIP"}, HTTP_IDEMPOTENCY_KEY="k1"
    )

    # Then the answer is the JSON error, and neither the write nor the key stays
    assert "logged" in assert_error(response, 500)
    assert not Segment.objects.exists()
    assert not IdempotentRequest.objects.exists()


def test_errors__service_finds_its_row_gone__404_not_500(
    api, static_segment, monkeypatch
):
    # Given a service whose row was deleted by a racing request while it ran
    def gone(**kwargs):
        raise Segment.DoesNotExist(f"Segment {static_segment.pk} no longer exists.")

    monkeypatch.setattr("segments.api.views.segments.segment_update", gone)

    # When the PATCH reaches it
    response = api.patch(f"/api/v1/segments/{static_segment.pk}", {"description": "x"})

    # Then the integration hears 404 with the service's sentence
    assert "no longer exists" in assert_error(response, 404)


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_errors__write_to_unknown_api_path__json_404_not_csrf_page(api_key, method):
    # A client that enforces CSRF as a server does: no cookie, no token
    client = client_for(api_key.key, enforce_csrf_checks=True)

    response = getattr(client, method)("/api/v1/nope", {"x": 1})

    assert response["Content-Type"] == "application/json"
    assert_error(response, 404)


def test_errors__csrf_refusal_under_api__json_403(rf):
    response = csrf_failure(rf.post("/api/v1/anything"), reason="CSRF cookie not set.")
    page = csrf_failure(rf.post("/admin/"), reason="CSRF cookie not set.")

    assert response.status_code == 403
    assert json.loads(response.content)["message"] == "Refused: CSRF cookie not set."
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("key", ["", "k1"])
def test_errors__method_not_allowed_with_idempotency_key__405_and_key_unused(api, key):
    response = api.delete("/api/v1/segments", HTTP_IDEMPOTENCY_KEY=key)

    assert_error(response, 405)
    assert not IdempotentRequest.objects.exists()


DATABASE_DOWN = [
    OperationalError("connection to server at 127.0.0.1 failed: Connection refused"),
    InterfaceError("connection already closed"),
]


@pytest.mark.parametrize("error", DATABASE_DOWN, ids=type)
@pytest.mark.parametrize("idempotent", [False, True])
def test_errors__database_unreachable__503_with_retry_after(
    api_key, monkeypatch, error, idempotent
):
    def down(**kwargs):
        raise error

    monkeypatch.setattr("segments.api.views.segments.segment_create", down)
    client = client_for(api_key.key, raise_request_exception=False)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k1"} if idempotent else {}

    response = client.post("/api/v1/segments", {"name": "VIP"}, **headers)

    assert "Retry in" in assert_error(response, 503)
    assert int(response["Retry-After"]) > 0
    assert not IdempotentRequest.objects.exists()


def test_errors__database_unreachable_before_the_view__503(api_key, monkeypatch):
    # The transaction an Idempotency-Key opens is the first thing to need the database
    def refuse(*args, **kwargs):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr("segments.api.base.transaction.atomic", refuse)
    client = client_for(api_key.key, raise_request_exception=False)

    response = client.post(
        "/api/v1/segments", {"name": "VIP"}, HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert_error(response, 503)
    assert response["Retry-After"]
