"""Erasure leaves nothing that names the customer: not the history's details, not
the admin's log, not the API's stored answers."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from segments.models import Customer, IdempotentRequest, Membership, MembershipChange
from segments.selectors import segment_stats
from segments.services import (
    customer_erase,
    customer_upsert,
    segment_members_add,
    segment_override_set,
)
from tests.api.conftest import client_for, new_key


def log_about(obj, user):
    return LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[obj], action_flag=CHANGE, single_object=True
    )


def test_customer_erase__history__kept_anonymised_counts_add_up(
    rule_segment, static_segment, actor
):
    # Given an erased customer's joins and leaves, with details naming them
    gone = customer_upsert(external_id="gone", actor=actor).customer
    segment_members_add(
        segment=static_segment,
        customers=[gone],
        actor=actor,
        reference_id="crm-gone",
        metadata={"email": "gone@example.com"},
        description="Asked by gone@example.com",
    )
    segment_override_set(
        segment=rule_segment, customer=gone, user_status="block", actor=actor
    )
    changes = MembershipChange.objects.count()

    # When they are erased
    customer_erase(customer=gone, actor=actor)

    # Then every change is kept, their leaving the segment they were in too, and
    # the counts add up; no change says who or why
    assert MembershipChange.objects.count() == changes + 1
    stats = segment_stats(segment=static_segment)
    today = stats.daily[-1]
    assert (stats.total, today.joins, today.leaves, today.total) == (0, 1, 1, 0)
    assert all(day.total >= 0 for day in stats.daily)
    details = MembershipChange.objects.values_list(
        "customer", "reference_id", "metadata", "description"
    )
    assert all(row == (None, "", {}, "") for row in details), list(details)


def test_customer_erase__admin_log__entries_about_them_scrubbed_others_kept(
    static_segment, actor, admin_user
):
    gone = customer_upsert(external_id="gone", actor=actor).customer
    kept = customer_upsert(external_id="kept", actor=actor).customer
    segment_members_add(segment=static_segment, customers=[gone], actor=actor)
    for obj in (gone, Membership.objects.get(customer=gone), kept):
        log_about(obj, admin_user)

    customer_erase(customer=gone, actor=actor)

    reprs = sorted(LogEntry.objects.values_list("object_repr", flat=True))
    assert reprs == ["Erased customer", "Erased customer", "kept"]
    customers = ContentType.objects.get_for_model(Customer)
    assert not LogEntry.objects.filter(
        content_type=customers, object_repr__contains="gone"
    ).exists()


def test_customer_erase__stored_api_answers__not_replayed(db, static_segment):
    # Given answers stored for Idempotency-Key requests about two customers
    api = client_for(new_key("read", "write", "ingest").key)

    def post(path, body, key):
        return api.post(
            f"/api/v1/{path}", body, format="json", HTTP_IDEMPOTENCY_KEY=key
        )

    post("customers", {"id": "gone", "email": "gone@example.com"}, "c1")
    post("customers", {"id": "kept", "email": "kept@example.com"}, "c2")
    event = {"user_id": "gone", "name": "purchase", "properties": {"card": "4242"}}
    assert post("events", event, "e1").status_code == 201
    status = {"user": "gone@example.com", "segment_id": static_segment.pk}
    post("segments/status", {**status, "user_status": "add"}, "s1")

    # When the customer is erased (itself with an Idempotency-Key: its path names them)
    erased = api.delete("/api/v1/customers/gone", HTTP_IDEMPOTENCY_KEY="d1")
    assert erased.status_code == 200

    # Then no stored request or answer holds their id or email, nor does a retry's
    for record in IdempotentRequest.objects.all():
        assert "gone" not in record.path + record.response_body, record
    assert IdempotentRequest.objects.filter(key="c2").exists()
    retry = post("events", event, "e1").content.decode()
    assert "gone" not in retry
    assert "4242" not in retry


def test_customer_erase__history_through_api__changes_listed_without_customer(
    db, static_segment, actor
):
    gone = customer_upsert(external_id="gone", actor=actor).customer
    segment_members_add(segment=static_segment, customers=[gone], actor=actor)
    customer_erase(customer=gone, actor=actor)
    api = client_for(new_key("read").key)

    response = api.get(f"/api/v1/segments/{static_segment.pk}/history")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["action"], r["customer_id"]) for r in rows] == [
        ("left", None),
        ("entered", None),
    ]
