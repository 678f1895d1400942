"""The API and the service layer leave the same memberships and the same history."""

from segments.models import Membership, MembershipChange, Segment
from segments.services import (
    Actor,
    segment_create,
    segment_members_add,
    segment_members_remove,
    segment_override_set,
)
from tests.factories import CustomerFactory

RULES = {
    "match": "all",
    "conditions": [{"field": "attributes.plan", "operator": "equals", "value": "pro"}],
}
CONTEXT = {"reference_id": "r-1", "metadata": {"k": "v"}, "description": "sync"}
MEMBERSHIP = ("customer__external_id", "source", "override", "is_test", "reference_id")
CHANGE = (
    "customer__external_id",
    "action",
    "was_member",
    "is_member",
    "source",
    "override",
    "is_test",
    "actor_type",
    "actor_label",
    "reference_id",
    "metadata",
    "description",
)


def through_api(client, segment, a, b, c, d):
    base = f"/api/v1/segments/{segment.pk}"

    def status(customer, user_status, **extra):
        body = {"user": customer.external_id, "segment_id": segment.pk}
        client.post(
            "/api/v1/segments/status", {**body, "user_status": user_status, **extra}
        )

    client.post(f"{base}/add_customers", {"ids": [a.external_id, b.external_id]})
    status(c, "block")
    client.post(f"{base}/add_customers", {"ids": [c.external_id, a.external_id]})
    status(d, "add")
    client.post(
        f"{base}/remove_customers", {"ids": [b.external_id, d.external_id], **CONTEXT}
    )
    status(c, "reset")
    status(a, "block", **CONTEXT)


def through_services(actor, segment, a, b, c, d):
    def status(customer, user_status, **extra):
        segment_override_set(
            segment=segment,
            customer=customer,
            user_status=user_status,
            actor=actor,
            **extra,
        )

    segment_members_add(segment=segment, customers=[a, b], actor=actor)
    status(c, "block")
    segment_members_add(segment=segment, customers=[c, a], actor=actor)
    status(d, "add")
    segment_members_remove(segment=segment, customers=[b, d], actor=actor, **CONTEXT)
    status(c, "reset")
    status(a, "block", **CONTEXT)


def state(segment):
    members = Membership.objects.filter(segment=segment).order_by("customer_id")
    changes = MembershipChange.objects.filter(segment=segment).order_by("id")
    return list(members.values_list(*MEMBERSHIP)), list(changes.values_list(*CHANGE))


def test_parity__members_and_overrides__api_and_services_same_rows_and_history(
    api, api_key
):
    # Given two identical rule segments and four customers
    actor = Actor.api(api_key.api_key)
    by_api, by_services = (
        segment_create(name=name, type=Segment.Type.RULE, rules=RULES, actor=actor)
        for name in ("By API", "By services")
    )
    people = CustomerFactory.create_batch(4)

    # When the same operations run through the API and through the services
    through_api(api, by_api, *people)
    through_services(actor, by_services, *people)

    # Then memberships and history match, row for row
    api_state = state(by_api)
    assert api_state == state(by_services)
    assert len(api_state[1]) == 8  # the operations did change things
