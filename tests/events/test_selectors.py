from datetime import timedelta

from django.utils import timezone

from segments.selectors import (
    EventNameCounts,
    event_name_counts,
    event_names_recent,
    events_recent,
)
from tests.factories import CustomerFactory, EventFactory


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def test_event_name_counts__windows__counted_per_name(db):
    now = timezone.now()
    for when in (ago(minutes=5), ago(hours=3), ago(days=3), ago(days=9)):
        EventFactory(name="purchase", received_at=when)
    EventFactory(name="Sign Up", received_at=ago(minutes=1))

    counts = event_name_counts(now=now)

    assert counts == [
        EventNameCounts("purchase", 1, 2, 3, counts[0].last_at),
        EventNameCounts("Sign Up", 1, 1, 1, counts[1].last_at),
    ]
    assert counts[0].last_at > ago(minutes=6)


def test_event_name_counts__old_events_sent_now__counted_by_arrival(db):
    # Given last month's events sent today, and a clock-skewed sender's event
    # stamped now that arrived two days ago
    for _ in range(2):
        EventFactory(
            name="backfill", timestamp=ago(days=30), received_at=ago(minutes=2)
        )
    EventFactory(name="skewed", timestamp=ago(minutes=1), received_at=ago(days=2))

    counts = {c.name: c for c in event_name_counts()}

    assert (counts["backfill"].last_hour, counts["backfill"].last_7d) == (2, 2)
    assert (counts["skewed"].last_hour, counts["skewed"].last_24h) == (0, 0)
    assert counts["skewed"].last_7d == 1
    assert counts["skewed"].last_at < ago(days=1)


def test_event_names_recent__arrived_in_the_last_week__sorted(db):
    EventFactory(name="purchase", received_at=ago(days=1))
    EventFactory(name="App Opened", received_at=ago(minutes=1))
    EventFactory(name="App Opened", received_at=ago(minutes=2))
    EventFactory(name="gone", received_at=ago(days=8))

    assert event_names_recent() == ["App Opened", "purchase"]


def test_events_recent__filters__newest_first(db):
    ada, bo = CustomerFactory(), CustomerFactory()
    old = EventFactory(customer=ada, name="purchase", timestamp=ago(days=2))
    new = EventFactory(customer=ada, name="purchase", timestamp=ago(hours=1))
    EventFactory(customer=bo, name="purchase", timestamp=ago(minutes=1))
    EventFactory(customer=ada, name="Sign Up", timestamp=ago(minutes=2))

    found = events_recent(name="purchase", customer=ada)
    recent = events_recent(name="purchase", customer=ada, since=ago(days=1))
    older = events_recent(until=ago(days=1))

    assert list(found) == [new, old]
    assert list(recent) == [new]
    assert list(older) == [old]
    assert len(events_recent(limit=2)) == 2
