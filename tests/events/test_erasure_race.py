"""An event naming a customer being erased waits for the erasure, then creates a
new customer: never half of each."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from segments.models import Customer, Event
from segments.services import Actor, customer_erase, event_ingest
from tests.factories import CustomerFactory, EventFactory
from tests.markers import requires_postgres

ACTOR = Actor.system("tests")


def in_thread(target, results):
    def run():
        try:
            results.append(target())
        except Exception as exc:  # shown by the test's assertion
            results.append(exc)
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_event_ingest__customer_being_erased__runs_after_on_new_customer():
    # Given a customer with an event, whose erasure holds their row
    old = CustomerFactory(external_id="u1")
    EventFactory(customer=old, name="before")
    erasing = threading.Event()
    finish = threading.Event()
    erase_results: list = []

    def erase():
        with transaction.atomic():
            locked = Customer.objects.select_for_update().get(pk=old.pk)
            erasing.set()
            customer_erase(customer=locked, actor=ACTOR)
            finish.wait(5)

    eraser = in_thread(erase, erase_results)
    assert erasing.wait(5)

    # When an event names them meanwhile
    event_results: list = []
    ingester = in_thread(
        lambda: event_ingest(actor=ACTOR, user_id="u1", name="after"), event_results
    )
    ingester.join(0.5)
    assert ingester.is_alive(), "the event must wait for the erasure"
    finish.set()
    eraser.join(5)
    ingester.join(5)

    # Then the erasure is whole and the event belongs to a new customer
    assert erase_results == [None]
    (result,) = event_results
    assert result.customer_created
    assert not Customer.objects.filter(pk=old.pk).exists()
    new = Customer.objects.get(external_id="u1")
    assert list(Event.objects.values_list("customer", "name")) == [(new.pk, "after")]
