from django.test import RequestFactory

from segments.api.errors import handler404
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
