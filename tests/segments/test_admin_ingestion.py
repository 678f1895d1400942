"""The ingestion page: counts per event name and the latest events, filtered."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.admin_support import count_queries
from tests.factories import CustomerFactory, EventFactory

LIVE = reverse("admin:segments_event_live")


def test_ingestion__events__counts_per_name_over_hour_day_week(alice):
    now = timezone.now()
    for age in (timedelta(minutes=5), timedelta(hours=3), timedelta(days=3)):
        EventFactory(name="purchase", received_at=now - age)
    EventFactory(name="Sign Up", received_at=now - timedelta(minutes=1))
    EventFactory(name="old", received_at=now - timedelta(days=8))

    response = alice.get(LIVE)

    counts = {
        c.name: (c.last_hour, c.last_24h, c.last_7d) for c in response.context["counts"]
    }
    assert counts == {"Sign Up": (1, 1, 1), "purchase": (1, 2, 3)}
    # busiest first
    assert [row.name for row in response.context["counts"]] == ["purchase", "Sign Up"]


def test_ingestion__filters__only_that_name_and_customer(alice):
    ada = CustomerFactory(external_id="ada")
    EventFactory(customer=ada, name="purchase", properties={"amount": 60})
    EventFactory(customer=ada, name="login")
    EventFactory(name="purchase")

    response = alice.get(LIVE, {"name": "purchase", "customer": "ada"})

    [(event, properties)] = response.context["events"]
    assert (event.customer, event.name, properties) == (
        ada,
        "purchase",
        '{"amount": 60}',
    )


def test_ingestion__partial__rows_only_for_polling(alice):
    EventFactory(name="purchase")

    response = alice.get(LIVE, {"partial": "1"})

    assert "purchase" in response.text
    assert "<html" not in response.text


def test_ingestion__more_events__same_queries(alice):
    EventFactory.create_batch(3)
    few = count_queries(alice, LIVE)

    EventFactory.create_batch(30)

    assert count_queries(alice, LIVE) == few
