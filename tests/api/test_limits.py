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
