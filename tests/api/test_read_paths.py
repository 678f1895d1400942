"""The reads integrations call most: the membership check and the campaign user
check answer in one query, with the API key from the cache and the throttle in one
counter; revoked keys, expired keys and throttled keys are still refused."""

import os
import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone
from rest_framework.fields import DateTimeField

from campaigns.models import Campaign, Enrollment
from campaigns.services import enrollment_add, enrollment_remove
from segments.api import throttling
from segments.models import ApiKey, Membership
from segments.services import (
    Actor,
    api_key_revoke,
    api_keys,
    segment_members_add,
    segment_override_set,
)
from tests.api.conftest import assert_error, client_for, new_key
from tests.factories import CampaignFactory, CustomerFactory
from tests.markers import needs_redis, redis_reachable

SYSTEM = Actor.system("tests")
REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def shared_cache(settings, db):
    """The default cache in Redis, as several app servers share it; a prefix of
    its own, so that parallel test runs do not count each other's requests."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    yield caches["default"]
    caches["default"].clear()


def member_url(segment, customer_id: str) -> str:
    return f"/api/v1/segments/{segment.pk}/members/{customer_id}"


def user_url(campaign, user_id: str) -> str:
    return f"/api/v1/campaigns/{campaign.pk}/users/{user_id}"


def test_member_check__member_not_member_blocked__one_query_each(
    api, static_segment, actor, django_assert_max_num_queries
):
    member, other, blocked = CustomerFactory.create_batch(3)
    segment_members_add(segment=static_segment, customers=[member], actor=actor)
    segment_override_set(
        segment=static_segment, customer=blocked, user_status="block", actor=actor
    )
    api.get("/api/v1/segments")  # the key is read once, then cached

    with django_assert_max_num_queries(1):
        yes = api.get(member_url(static_segment, member.external_id))
    with django_assert_max_num_queries(1):
        no = api.get(member_url(static_segment, f"{other.pk}?id_type=internal_id"))
    with django_assert_max_num_queries(1):
        out = api.get(member_url(static_segment, blocked.external_id))

    body = yes.json()
    assert (body["member"], body["source"], body["override"]) == (True, "admin", "none")
    joined_at = Membership.objects.get(customer=member).joined_at
    assert body["joined_at"] == DateTimeField().to_representation(joined_at)
    assert no.json() == {
        "member": False,
        "source": None,
        "override": "none",
        "joined_at": None,
    }
    assert out.json() == {
        "member": False,
        "source": "admin",
        "override": "block",
        "joined_at": None,
    }


def test_member_check__email_in_other_case__found(api, static_segment, actor):
    customer = CustomerFactory(email="ann@example.com")
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    response = api.get(member_url(static_segment, " Ann@Example.COM?id_type=email"))

    assert response.json()["member"] is True


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("members/ghost", "No customer with external id 'ghost'"),
        ("members/12x?id_type=internal_id", "No customer with internal id '12x'"),
    ],
)
def test_member_check__unknown_customer__404_names_them(
    api, static_segment, path, says
):
    response = api.get(f"/api/v1/segments/{static_segment.pk}/{path}")

    assert says in assert_error(response, 404)


def test_member_check__unknown_segment__404_names_it_first(api, customer):
    response = api.get(f"/api/v1/segments/999/members/{customer.external_id}")

    assert "No segment with id 999" in assert_error(response, 404)


def test_reads__id_past_bigint__404_not_500(api, customer):
    huge = "9" * 30

    no_segment = api.get(f"/api/v1/segments/{huge}/members/{customer.external_id}")
    no_campaign = api.get(f"/api/v1/campaigns/{huge}/users/{customer.external_id}")

    assert_error(no_segment, 404)
    assert_error(no_campaign, 404)


def test_member_check__bad_id_type__400_naming_it(api, static_segment, customer):
    response = api.get(member_url(static_segment, f"{customer.pk}?id_type=phone"))

    assert_error(response, 400, field="id_type")


def test_campaign_user_check__active_removed_not_enrolled__one_query_each(
    api, db, django_assert_max_num_queries
):
    campaign = CampaignFactory()
    active, removed, other = CustomerFactory.create_batch(3)
    enrollment_add(campaign=campaign, customer=active, actor=SYSTEM)
    enrollment_add(campaign=campaign, customer=removed, actor=SYSTEM)
    enrollment_remove(campaign=campaign, customer=removed, actor=SYSTEM)
    api.get("/api/v1/segments")

    answers = []
    for customer in (active, removed, other):
        with django_assert_max_num_queries(1):
            answers.append(api.get(user_url(campaign, customer.external_id)).json())

    assert [(a["status"], a["source"]) for a in answers] == [
        ("active", "admin"),  # not an API actor: "admin"
        ("removed", "admin"),
        ("not_enrolled", None),
    ]
    assert answers[0]["user_id"] == active.external_id
    assert answers[0]["campaign_id"] == campaign.pk
    rows = {e.customer_id: e for e in Enrollment.objects.all()}
    as_text = DateTimeField().to_representation
    assert answers[0]["enrolled_at"] == as_text(rows[active.pk].enrolled_at)
    assert answers[0]["removed_at"] is None
    assert answers[1]["removed_at"] == as_text(rows[removed.pk].removed_at)
    assert answers[2]["enrolled_at"] is None


@pytest.mark.parametrize(
    "campaign_fields",
    [
        {"status": Campaign.Status.PAUSED},
        {"starts_at": timezone.now() + timedelta(days=1)},
        {"ends_at": timezone.now() - timedelta(days=1)},
    ],
)
def test_campaign_user_check__campaign_not_live__404_says_not_active(
    api, customer, campaign_fields
):
    campaign = CampaignFactory(name="Old", **campaign_fields)

    response = api.get(user_url(campaign, customer.external_id))

    assert "is not active" in assert_error(response, 404)


def test_campaign_user_check__unknown_campaign_then_user__404_names_each(api, customer):
    campaign = CampaignFactory()

    no_campaign = api.get(f"/api/v1/campaigns/999/users/{customer.external_id}")
    no_user = api.get(user_url(campaign, "ghost"))

    assert "No campaign with id 999" in assert_error(no_campaign, 404)
    assert "ghost" in assert_error(no_user, 404)


def test_auth__key_revoked_while_cached__401_at_once(api, api_key):
    assert api.get("/api/v1/segments").status_code == 200  # cached now

    api_key_revoke(api_key=api_key.api_key, actor=SYSTEM)

    assert_error(api.get("/api/v1/segments"), 401)


@needs_redis
def test_auth__key_revoked_by_another_process__401_once_its_memory_expires(
    shared_cache, monkeypatch
):
    # Given a key this process has used, and so keeps in its memory
    created = new_key("read")
    client = client_for(created.key)
    assert client.get("/api/v1/segments").status_code == 200
    memory = dict(api_keys._local)
    # When another app server (sharing the cache, not this memory) revokes it
    api_key_revoke(api_key=created.api_key, actor=SYSTEM)
    api_keys._local.update(memory)
    later = time.monotonic() + api_keys.LOCAL_SECONDS + 0.1
    monkeypatch.setattr(api_keys.time, "monotonic", lambda: later)

    # Then this process refuses it once its memory of the key has expired
    assert_error(client.get("/api/v1/segments"), 401)


@needs_redis
def test_auth__key_revoked__shared_cache_marks_it_for_other_processes(shared_cache):
    created = new_key("read")
    client = client_for(created.key)
    assert client.get("/api/v1/segments").status_code == 200

    api_key_revoke(api_key=created.api_key, actor=SYSTEM)
    api_keys._local.clear()  # another process: only the shared cache in common

    assert_error(client.get("/api/v1/segments"), 401)


def test_auth__key_expires_while_cached__401(db, monkeypatch):
    created = new_key("read", expires_at=timezone.now() + timedelta(minutes=5))
    client = client_for(created.key)
    assert client.get("/api/v1/segments").status_code == 200
    later = timezone.now() + timedelta(minutes=6)

    monkeypatch.setattr(api_keys.timezone, "now", lambda: later)

    assert_error(client.get("/api/v1/segments"), 401)


def test_auth__cached_key__last_used_written_once_a_minute(db, monkeypatch):
    created = new_key("read")
    client = client_for(created.key)
    client.get("/api/v1/segments")
    first = ApiKey.objects.get().last_used_at
    client.get("/api/v1/segments")
    assert ApiKey.objects.get().last_used_at == first

    later = timezone.now() + api_keys.LAST_USED_RESOLUTION + timedelta(seconds=1)
    monkeypatch.setattr(api_keys.timezone, "now", lambda: later)
    client.get("/api/v1/segments")

    assert ApiKey.objects.get().last_used_at == later


@pytest.mark.parametrize("cache", ["in process", "shared"])
def test_throttle__over_the_rate__429_until_the_next_window(
    request, api, reader, settings, monkeypatch, cache
):
    if cache == "shared":
        if not redis_reachable() and os.environ.get("CI") != "true":
            pytest.skip(needs_redis.kwargs["reason"])
        request.getfixturevalue("shared_cache")
    settings.API_THROTTLE_RATE = "2/min"
    now = 60 * 1_000_000 + 10.0  # 10 s into a minute
    monkeypatch.setattr(throttling.time, "time", lambda: now)
    assert [api.get("/api/v1/segments").status_code for _ in range(2)] == [200, 200]

    refused = api.get("/api/v1/segments")
    other_key = reader.get("/api/v1/segments")
    now += 50  # the next minute
    again = api.get("/api/v1/segments")

    assert "limit 2/min" in assert_error(refused, 429)
    assert refused["Retry-After"] == "50"
    assert other_key.status_code == 200
    assert again.status_code == 200


def test_throttle__rate_not_understood__error_names_the_setting():
    with pytest.raises(ValueError, match="API_THROTTLE_RATE '5 per minute'"):
        throttling.parse_rate("5 per minute")


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("1200/min", (1200, 60)), ("10/s", (10, 1)), ("5/hour", (5, 3600))],
)
def test_throttle__rate__parsed_as_drf_reads_it(rate, parsed):
    assert throttling.parse_rate(rate) == parsed
