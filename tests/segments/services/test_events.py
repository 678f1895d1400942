from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from segments.models import Event
from segments.services import event_record


def test_event_record__new__stored_and_last_seen_updated(customer):
    when = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)

    result = event_record(
        customer=customer,
        name="Purchase Completed",
        properties={"amount": 80},
        timestamp=when,
        message_id="m-1",
    )

    assert result.created
    assert result.event.properties == {"amount": 80}
    customer.refresh_from_db()
    assert customer.last_seen_at == when


def test_event_record__same_message_id__deduplicated(customer):
    first = event_record(customer=customer, name="Sign Up", message_id="m-1")

    again = event_record(customer=customer, name="Sign Up", message_id="m-1")

    assert not again.created
    assert again.event == first.event
    assert Event.objects.count() == 1


def test_event_record__no_message_id__every_event_kept(customer):
    event_record(customer=customer, name="App Opened")
    event_record(customer=customer, name="App Opened")

    assert Event.objects.count() == 2


def test_event_record__older_event__last_seen_not_moved_back(customer):
    recent = datetime(2026, 6, 2, tzinfo=UTC)
    event_record(customer=customer, name="App Opened", timestamp=recent)

    event_record(
        customer=customer, name="App Opened", timestamp=datetime(2026, 1, 1, tzinfo=UTC)
    )

    customer.refresh_from_db()
    assert customer.last_seen_at == recent


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [({"name": " "}, "name"), ({"name": "X", "properties": [1]}, "properties")],
)
def test_event_record__bad_input__error_and_nothing_saved(
    customer, fields, error_field
):
    with pytest.raises(ValidationError) as error:
        event_record(customer=customer, **fields)

    assert error_field in error.value.message_dict
    assert not Event.objects.exists()
