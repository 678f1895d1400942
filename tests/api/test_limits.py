import base64

import pytest

from segments.models import Customer
from tests.factories import CustomerFactory

from .conftest import assert_error


def test_body_limit__over_the_limit__413_before_parsing(api, settings):
    settings.API_MAX_BODY_BYTES = 100
    # Not even JSON: the size is refused before the body is read.
    body = "x" * 101

    response = api.post("/api/v1/segments", data=body, content_type="application/json")

    assert "limit is 100 bytes" in assert_error(response, 413)


def test_body_limit__under_the_limit__accepted(api, settings):
    settings.API_MAX_BODY_BYTES = 100

    assert api.post("/api/v1/segments", {"name": "VIP"}).status_code == 201


def test_throttle__over_the_rate__429_with_retry_after(api, settings):
    settings.API_THROTTLE_RATE = "2/min"
    api.get("/api/v1/segments")
    api.get("/api/v1/segments")

    response = api.get("/api/v1/segments")

    assert "limit 2/min" in assert_error(response, 429)
    assert 0 < int(response["Retry-After"]) <= 60


def test_throttle__counts_per_key__other_key_still_served(api, reader, settings):
    settings.API_THROTTLE_RATE = "1/min"
    api.get("/api/v1/segments")

    assert api.get("/api/v1/segments").status_code == 429
    assert reader.get("/api/v1/segments").status_code == 200


@pytest.mark.parametrize(
    "limit", ["-1", "0", "null", "1001", "99999999999999999999", "1.5", "²"]
)
@pytest.mark.parametrize("listing", ["members", "history"])
def test_pages__limit_out_of_range__400_naming_it(api, static_segment, listing, limit):
    response = api.get(f"/api/v1/segments/{static_segment.pk}/{listing}?limit={limit}")

    assert "1 to 1000" in assert_error(response, 400, field="limit")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        base64.b64encode(b"p=abc").decode(),  # well formed, but not an id
        base64.b64encode(b"o=-5").decode(),
    ],
)
def test_pages__cursor_not_made_by_the_api__400_naming_it(api, static_segment, cursor):
    url = f"/api/v1/segments/{static_segment.pk}/members"

    response = api.get(url, {"cursor": cursor})

    assert_error(response, 400, field="cursor")


def test_pages__limit_and_next_cursor__followed(api, static_segment):
    CustomerFactory.create_batch(3)
    ids = list(Customer.objects.values_list("external_id", flat=True))
    url = f"/api/v1/segments/{static_segment.pk}/members"
    api.post(f"/api/v1/segments/{static_segment.pk}/add_customers", {"ids": ids})

    first = api.get(url, {"limit": "2"}).json()
    second = api.get(first["next"]).json()

    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
