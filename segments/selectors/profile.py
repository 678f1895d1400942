"""A customer's page: their segments and how they got in, events, timeline."""

from dataclasses import dataclass

from segments.models import Customer, Event, Membership, MembershipChange

RECENT_EVENTS = 20
TIMELINE_ROWS = 30


@dataclass(frozen=True)
class CustomerProfile:
    memberships: list[Membership]  # blocks included: shown as "blocked"
    events: list[Event]
    timeline: list[MembershipChange]


def customer_profile(*, customer: Customer) -> CustomerProfile:
    return CustomerProfile(
        memberships=list(
            Membership.objects.filter(customer=customer)
            .select_related("segment")
            .order_by("segment__name")
        ),
        events=list(
            Event.objects.filter(customer=customer).order_by("-timestamp", "-pk")[
                :RECENT_EVENTS
            ]
        ),
        timeline=list(
            MembershipChange.objects.filter(customer=customer)
            .select_related("segment")
            .order_by("-occurred_at", "-pk")[:TIMELINE_ROWS]
        ),
    )
