"""Bad input, class by class and endpoint by endpoint: a 4xx in the error format that
names the field, and not a row written (docs/reliability.md, "bad-input corpus")."""

import json

import pytest

from campaigns.models import Campaign, Enrollment
from campaigns.services import campaign_create
from segments.models import (
    Customer,
    Event,
    Membership,
    MembershipChange,
    Segment,
    SegmentRule,
)
from tests.factories import CustomerFactory

from .conftest import assert_error, client_for

TABLES = (
    Customer,
    Event,
    Segment,
    SegmentRule,
    Membership,
    MembershipChange,
    Campaign,
    Enrollment,
)

# Values as raw JSON text: a client may send what Python's json.dumps cannot.
NUL = '"a\\u0000b"'
SURROGATE = '"\\ud800"'
LOW_SURROGATE = '"x\\udfff"'
BAD_TEXT = {"nul": NUL, "surrogate": SURROGATE, "low surrogate": LOW_SURROGATE}
DEEP = "[" * 1000 + "]" * 1000


def rules_with(value: str) -> str:
    condition = (
        f'{{"field": "attributes.plan", "operator": "equals", "value": {value}}}'
    )
    return f'{{"match": "all", "conditions": [{condition}]}}'


# (method, path, body with {X} where the bad value goes, the field the error names)
CASES = [
    (
        "post",
        "/customers",
        '{"id": "u1", "attributes": {"plan": X}}',
        "attributes.plan",
    ),
    ("post", "/customers", '{"id": X}', "id"),
    ("post", "/customers", '{"id": "u9", "email": X}', "email"),
    (
        "post",
        "/customers",
        '{"id": "u9", "substitutionTags": [{"tag": "t", "value": X}]}',
        "substitutionTags[0].value",
    ),
    (
        "post",
        "/events",
        '{"user_id": "u1", "name": "buy", "properties": {"sku": X}}',
        "properties.sku",
    ),
    ("post", "/events", '{"user_id": "u1", "name": X}', "name"),
    ("post", "/segments", '{"name": "S", "type": X}', "type"),
    ("post", "/segments", '{"name": X}', "name"),
    (
        "post",
        "/segments",
        '{"name": "S", "type": "rule", "rules": ' + rules_with("X") + "}",
        "rules.conditions[0].value",
    ),
    ("patch", "/segments/{segment}", '{"description": X}', "description"),
    (
        "patch",
        "/segments/{segment}",
        '{"rules": ' + rules_with("X") + "}",
        "rules.conditions[0].value",
    ),
    (
        "post",
        "/segments/preview",
        '{"rules": ' + rules_with("X") + "}",
        "rules.conditions[0].value",
    ),
    (
        "post",
        "/segments/{segment}/add_customers",
        '{"ids": ["u1"], "metadata": {"why": X}}',
        "metadata.why",
    ),
    ("post", "/segments/{segment}/add_customers", '{"ids": [X]}', "ids[0]"),
    ("post", "/segments/{segment}/remove_customers", '{"ids": ["u1", X]}', "ids[1]"),
    (
        "post",
        "/segments/status",
        '{"user": "u1", "segment_id": {segment}, "user_status": X}',
        "user_status",
    ),
    (
        "post",
        "/segments/status",
        '{"user": "u1", "segment_id": {segment}, "user_status": "add", '
        '"metadata": {"m": [1, X]}}',
        "metadata.m[1]",
    ),
    ("post", "/campaigns", '{"name": "C", "status": X}', "status"),
    ("patch", "/campaigns/{campaign}", '{"status": X}', "status"),
    ("post", "/campaigns/{campaign}/users", '{"user_id": X}', "user_id"),
]


@pytest.fixture
def world(api, actor, static_segment):
    """A customer u1 in a static segment, and an active campaign on it."""
    customer = CustomerFactory(external_id="u1")
    api.post(f"/api/v1/segments/{static_segment.pk}/add_customers", {"ids": ["u1"]})
    campaign = campaign_create(
        name="Welcome", status="active", segments=[static_segment], actor=actor
    )
    return {"segment": static_segment.pk, "campaign": campaign.pk, "customer": customer}


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def send(api, world, method: str, path: str, body: str):
    path = path.replace("{segment}", str(world["segment"]))
    path = path.replace("{campaign}", str(world["campaign"]))
    body = body.replace("{segment}", str(world["segment"]))
    return getattr(api, method)(
        f"/api/v1{path}", data=body, content_type="application/json"
    )


def case_id(case) -> str:
    method, path, _, field = case
    return f"{method} {path} {field}"


@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_text__anywhere_in_a_body__400_naming_the_field_nothing_written(
    api, world, case, value
):
    method, path, body, field = case
    before = counts()

    response = send(api, world, method, path, body.replace("X", value))

    assert_error(response, 400, field=field)
    assert counts() == before


def test_bad_text__in_a_key__400_naming_it_escaped(api, world):
    body = '{"id": "u1", "attributes": {"a\\u0000": 1, "ok": {"\\ud800": 2}}}'

    response = send(api, world, "post", "/customers", body)

    details = response.json()["details"]
    assert_error(response, 400)
    assert set(details) == {"attributes.a\\u0000", "attributes.ok.\\ud800"}


def test_bad_text__surrogate_pair__accepted_as_the_character(api, world):
    body = '{"id": "u1", "attributes": {"mood": "\\ud83d\\ude00"}}'

    response = send(api, world, "post", "/customers", body)

    assert response.status_code == 200, response.json()
    assert Customer.objects.get(external_id="u1").attributes["mood"] == "\U0001f600"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_deep_json__1000_levels_in_any_body__400_before_parsing(api, world, case):
    method, path, body, _ = case
    before = counts()

    response = send(api, world, method, path, body.replace("X", DEEP))

    assert "nests deeper than" in assert_error(response, 400)
    assert counts() == before


def nested(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"next": value}
    return value


@pytest.mark.parametrize(
    "path, body",
    [
        ("/customers", lambda v: {"id": "u2", "attributes": v}),
        ("/events", lambda v: {"user_id": "u1", "name": "e", "properties": v}),
        ("/segments/{segment}/add_customers", lambda v: {"ids": ["u1"], "metadata": v}),
    ],
    ids=["attributes", "properties", "metadata"],
)
@pytest.mark.parametrize("levels, accepted", [(10, True), (11, False), (30, False)])
def test_json_depth__objects_deeper_than_10__400_naming_the_field(
    api, world, path, body, levels, accepted
):
    data = body(nested(levels))
    field = next(
        name for name in ("attributes", "properties", "metadata") if name in data
    )

    response = send(api, world, "post", path, json.dumps(data))

    if accepted:
        assert response.status_code in (200, 201), response.json()
    else:
        assert "deeper than 10" in assert_error(response, 400, field=field)


@pytest.mark.parametrize(
    "attributes, problem",
    [
        ({f"k{i}": i for i in range(501)}, "More than 500 keys"),
        ({"k" * 256: 1}, "longer than 255"),
    ],
    ids=["key count", "key length"],
)
def test_json_size__too_many_or_too_long_keys__400(api, world, attributes, problem):
    response = api.post("/api/v1/customers", {"id": "u3", "attributes": attributes})

    assert problem in assert_error(response, 400, field="attributes")
    assert not Customer.objects.filter(external_id="u3").exists()


PATHS_WITH_IDS = [
    ("get", "/customers/%00"),
    ("delete", "/customers/%00"),
    ("get", "/customers/%00/campaigns"),
    ("get", "/segments/{segment}/members/%00"),
    ("get", "/campaigns/{campaign}/users/%00"),
    ("delete", "/campaigns/{campaign}/users/%00"),
    ("get", "/customers/u1?id_type=%00"),
    ("get", "/segments/{segment}/members?source=a%00"),
]


@pytest.mark.parametrize("method, path", PATHS_WITH_IDS)
def test_path_and_query__nul__400_json(api, world, method, path):
    before = counts()

    response = send(api, world, method, path, "")

    assert_error(response, 400)
    assert counts() == before


def test_path__internal_id_not_ascii_digits__404(api, world):
    response = api.get("/api/v1/customers/%C2%B2?id_type=internal_id")

    assert_error(response, 404)


def test_ids__internal_id_not_ascii_digits__400_naming_it(api, world):
    response = api.post(
        f"/api/v1/segments/{world['segment']}/add_customers?id_type=internal_id",
        {"ids": [str(world["customer"].pk), "²"]},
    )

    assert_error(response, 400, field="ids[1]")
    assert Membership.objects.count() == 1


def test_headers__nul_in_the_api_key__401_json(world):
    response = client_for("sk_a\x00b_c").post("/api/v1/customers", {"id": "u4"})

    assert_error(response, 401)
    assert not Customer.objects.filter(external_id="u4").exists()


@pytest.mark.parametrize("key", ["a\x00b", "caf\xe9", "x" * 256, " "])
def test_headers__idempotency_key_not_printable_ascii_or_too_long__400(api, world, key):
    response = api.post("/api/v1/customers", {"id": "u4"}, HTTP_IDEMPOTENCY_KEY=key)

    assert_error(response, 400, field="Idempotency-Key")
    assert not Customer.objects.filter(external_id="u4").exists()


WRONG_TYPES = [
    ("post", "/customers", {"id": "u5", "first_name": -805}, "first_name"),
    ("post", "/customers", {"id": True}, "id"),
    ("post", "/events", {"user_id": "u1", "name": 7}, "name"),
    (
        "post",
        "/segments/status",
        {"user": "u1", "segment_id": "{segment}", "user_status": "add"},
        "segment_id",
    ),
    ("patch", "/segments/{segment}", {"archived": "yes"}, "archived"),
    ("post", "/segments/preview", {"rules": {}, "sample_size": "5"}, "sample_size"),
    ("post", "/campaigns", {"name": "C", "segment_ids": ["{segment}"]}, "segment_ids"),
    (
        "post",
        "/segments/{segment}/add_customers",
        {"ids": ["u1"], "reference_id": 1},
        "reference_id",
    ),
]


@pytest.mark.parametrize("method, path, body, field", WRONG_TYPES)
def test_json_types__other_than_declared__400_not_coerced(
    api, world, method, path, body, field
):
    # "1" for 1, 1 for "1", "yes" for true: the schema says otherwise, so does the API
    before = counts()
    text = json.dumps(body).replace("{segment}", str(world["segment"]))

    response = send(api, world, method, path, text)

    assert_error(response, 400, field=field)
    assert counts() == before
