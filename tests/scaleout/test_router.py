"""Which database a read goes to, with a `replica` alias mirroring the test database.

The replica is added for the test only (no configuration has one) as Django's TEST
MIRROR would: the same test database through a connection of its own. Tests commit
(transactional) so that the second connection sees their rows; what proves where a
read went is the queries captured on each connection.
"""

import copy
import time

import pytest
from django.core.cache import cache
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from segments.models import ApiKey, Customer
from segments.selectors import count_estimated
from segments.services import Actor, api_key_authenticate, api_key_create
from segments_site import db_router
from segments_site.db_router import (
    REPLICA,
    ReplicaRouter,
    reading_from_replica,
    replica_health,
    routing_for,
)
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


def _mirror_of_default() -> dict:
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "MIRROR": "default"}
    return settings_dict


def _unreachable() -> dict:
    down = _mirror_of_default()
    if down["ENGINE"].endswith("sqlite3"):
        down["NAME"] = "/nonexistent/dir/replica.sqlite3"
    else:
        down["PORT"] = "1"  # nothing listens there
    return down


def _drop_connection(alias: str) -> None:
    connections[alias].close()
    del connections[alias]


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup):
    # Before the test case is made, which checks the aliases it is given.
    connections.settings[REPLICA] = _mirror_of_default()
    yield
    _drop_connection(REPLICA)
    del connections.settings[REPLICA]


@pytest.fixture
def replica():
    mirror = connections.settings[REPLICA]
    replica_health.forget()
    cache.clear()
    yield connections[REPLICA]
    if connections.settings[REPLICA] is not mirror:
        _drop_connection(REPLICA)
        connections.settings[REPLICA] = mirror
    replica_health.forget()
    cache.clear()


@pytest.fixture
def key():
    return api_key_create(
        name="CRM", scopes=["read", "write", "ingest"], actor=Actor.system("tests")
    ).key


def api_get(client, path, key):
    return client.get(path, HTTP_X_API_KEY=key)


def api_post(client, path, key, body):
    return client.post(path, body, content_type="application/json", HTTP_X_API_KEY=key)


def queries_on(alias):
    return CaptureQueriesContext(connections[alias])


def test_api_get__replica_configured__reads_from_replica(client, replica, key):
    # Given a customer on the primary
    CustomerFactory(external_id="u1")

    # When a client reads it
    with queries_on(REPLICA) as on_replica, queries_on("default") as on_primary:
        response = api_get(client, "/api/v1/customers/u1", key)

    # Then the answer is right and its lookups ran on the replica
    assert response.status_code == 200, response.content
    assert response.json()["id"] == "u1"
    assert any("segments_customer" in q["sql"] for q in on_replica.captured_queries)
    assert not any("segments_customer" in q["sql"] for q in on_primary)


def test_api_get__same_key_wrote_just_before__reads_from_primary(client, replica, key):
    # Given a client that has just created a customer
    created = api_post(client, "/api/v1/customers", key, {"id": "u2"})
    assert created.status_code == 201, created.content

    # When it reads the customer back at once
    with queries_on(REPLICA) as on_replica:
        response = api_get(client, "/api/v1/customers/u2", key)

    # Then the read went to the primary, where its write surely is
    assert response.status_code == 200
    assert on_replica.captured_queries == []


def test_api_get__another_key_wrote__still_reads_from_replica(client, replica, key):
    other = api_key_create(
        name="Other", scopes=["ingest", "read"], actor=Actor.system("tests")
    ).key
    assert api_post(client, "/api/v1/customers", other, {"id": "u3"}).status_code == 201

    with queries_on(REPLICA) as on_replica:
        response = api_get(client, "/api/v1/customers/u3", key)

    assert response.status_code == 200
    assert len(on_replica.captured_queries) > 0


def test_api_get__sticky_time_over__reads_from_replica_again(
    client, replica, key, settings
):
    settings.DATABASE_REPLICA_STICKY_SECONDS = 0.001
    assert api_post(client, "/api/v1/customers", key, {"id": "u4"}).status_code == 201
    time.sleep(0.01)

    with queries_on(REPLICA) as on_replica:
        response = api_get(client, "/api/v1/customers/u4", key)

    assert response.status_code == 200
    assert len(on_replica.captured_queries) > 0


def test_api_get__unknown_key_on_replica__looked_up_on_primary_before_401(
    client, replica, key, monkeypatch
):
    # Given a replica behind the primary: it does not know the key yet
    from segments.api import auth

    looked_up_on = []

    def replica_behind(*, key):
        alias = ApiKey.objects.all().db
        looked_up_on.append(alias)
        return None if alias == REPLICA else api_key_authenticate(key=key)

    monkeypatch.setattr(auth, "api_key_authenticate", replica_behind)

    # When the key is used at once
    response = api_get(client, "/api/v1/segments", key)

    # Then it was looked up again on the primary, and the request served
    assert response.status_code == 200, response.content
    assert looked_up_on == [REPLICA, "default"]


def test_api_get__unknown_key_anywhere__401(client, replica):
    response = api_get(client, "/api/v1/segments", "sk_nope_nope")

    assert response.status_code == 401


def test_api_get__replica_down__reads_from_primary(client, replica, key):
    CustomerFactory(external_id="u5")
    _drop_connection(REPLICA)
    connections.settings[REPLICA] = _unreachable()

    response = api_get(client, "/api/v1/customers/u5", key)

    assert response.status_code == 200, response.content
    assert replica_health.usable() is False


def test_api_get__replica_fails_mid_request__served_again_from_primary(
    client, replica, key, monkeypatch
):
    # Given a replica that looked fine at the last check and is gone now
    CustomerFactory(external_id="u8")
    monkeypatch.setattr(db_router, "replica_lag", lambda: 0.0)
    _drop_connection(REPLICA)
    connections.settings[REPLICA] = _unreachable()

    # When a client reads
    response = api_get(client, "/api/v1/customers/u8", key)

    # Then the failed attempt (503) is not what it sees, and the replica is left
    # alone until the next check
    assert response.status_code == 200, response.content
    assert response.json()["id"] == "u8"
    assert replica_health.usable() is False


def test_api_get__replica_lags_past_bound__reads_from_primary(
    client, replica, key, settings, monkeypatch
):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    monkeypatch.setattr(db_router, "replica_lag", lambda: 12.0)
    CustomerFactory(external_id="u6")

    with queries_on(REPLICA) as on_replica:
        response = api_get(client, "/api/v1/customers/u6", key)

    assert response.status_code == 200
    assert on_replica.captured_queries == []


def test_api_post__replica_configured__reads_and_writes_on_primary(
    client, replica, key
):
    with queries_on(REPLICA) as on_replica:
        response = api_post(client, "/api/v1/customers", key, {"id": "u7"})

    assert response.status_code == 201
    assert on_replica.captured_queries == []
    assert Customer.objects.filter(external_id="u7").exists()


def test_router__inside_transaction__reads_from_primary(replica):
    with routing_for(allowed=True), reading_from_replica(), transaction.atomic():
        assert Customer.objects.all().db == "default"
    with routing_for(allowed=True), reading_from_replica():
        assert Customer.objects.all().db == REPLICA


def test_router__after_a_write_in_the_request__reads_from_primary(replica):
    with routing_for(allowed=True) as routing, reading_from_replica():
        assert Customer.objects.all().db == REPLICA
        CustomerFactory()
        assert routing.wrote is True
        assert Customer.objects.all().db == "default"


def test_router__outside_a_request__reads_from_primary(replica):
    with reading_from_replica():
        assert Customer.objects.all().db == "default"


def test_router__migrations__only_on_default(replica):
    router = ReplicaRouter()

    assert router.allow_migrate("default", "segments") is True
    assert router.allow_migrate(REPLICA, "segments") is False


def test_admin_heavy_count__replica__counted_there(client, replica):
    # Given a logged-in marketer and customers
    CustomerFactory.create_batch(3)
    client.force_login(UserFactory(username="bob"))

    # When the dashboard counts them
    with queries_on(REPLICA) as on_replica:
        response = client.get(reverse("admin:index"))

    # Then the counts ran on the replica; the page's other reads did not
    assert response.status_code == 200
    counts = [q["sql"] for q in on_replica.captured_queries]
    assert any("COUNT(" in sql.upper() for sql in counts), counts
    assert not any("django_session" in sql for sql in counts)


def test_admin_heavy_count__session_wrote__counted_on_primary(client, replica):
    CustomerFactory.create_batch(2)
    client.force_login(UserFactory(username="carol"))
    client.post(reverse("admin:segments_segment_add"), {"name": ""})

    with queries_on(REPLICA) as on_replica:
        response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert on_replica.captured_queries == []


def test_count_estimated__outside_request__primary(replica):
    CustomerFactory.create_batch(2)

    with queries_on(REPLICA) as on_replica:
        assert count_estimated(Customer.objects.all()) == 2

    assert on_replica.captured_queries == []


def test_wrote_lately__cache_unreachable__assumed_so_reads_primary(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }

    assert db_router.wrote_lately("key:abc") is True
