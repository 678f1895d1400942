from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Enrollment
from campaigns.services import campaign_create
from segments.models import Customer, Event, Membership, MembershipChange
from segments.services import (
    customer_erase,
    customer_upsert,
    event_record,
    segment_members_add,
)


def test_customer_upsert__new__created_with_normalised_email(actor):
    result = customer_upsert(
        external_id=" u-1 ",
        email=" Ada@Example.COM ",
        first_name="Ada",
        attributes={"channel": "Facebook"},
        actor=actor,
    )

    assert result.created
    customer = Customer.objects.get()
    assert (customer.external_id, customer.email) == ("u-1", "ada@example.com")
    assert customer.attributes == {"channel": "Facebook"}


def test_customer_upsert__existing__attributes_merged_and_null_removes(actor):
    customer_upsert(
        external_id="u-1",
        first_name="Ada",
        attributes={"channel": "Facebook", "plan": "free", "city": "Paris"},
        actor=actor,
    )

    result = customer_upsert(
        external_id="u-1",
        attributes={"plan": "pro", "city": None, "score": 7},
        actor=actor,
    )

    assert not result.created
    customer = Customer.objects.get()
    assert customer.attributes == {"channel": "Facebook", "plan": "pro", "score": 7}
    # Fields left out keep their value
    assert customer.first_name == "Ada"


def test_customer_upsert__email_of_another_customer__error_and_unchanged(actor):
    customer_upsert(external_id="u-1", email="ada@example.com", actor=actor)
    customer_upsert(external_id="u-2", email="bob@example.com", actor=actor)

    with pytest.raises(ValidationError) as error:
        customer_upsert(external_id="u-2", email="ADA@example.com", actor=actor)

    assert "email" in error.value.message_dict
    assert Customer.objects.get(external_id="u-2").email == "bob@example.com"


def test_customer_upsert__customers_without_email__both_allowed(actor):
    customer_upsert(external_id="u-1", actor=actor)
    customer_upsert(external_id="u-2", email="", actor=actor)

    assert Customer.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"external_id": "  "}, "external_id"),
        ({"external_id": "u-1", "email": "not-an-email"}, "email"),
        ({"external_id": "u-1", "attributes": ["a", "b"]}, "attributes"),
        ({"external_id": "u-1", "attributes": {"": 1}}, "attributes"),
        ({"external_id": "u-1", "phone": "1" * 40}, "phone"),
    ],
)
def test_customer_upsert__bad_input__error_names_field_nothing_saved(
    actor, fields, error_field
):
    with pytest.raises(ValidationError) as error:
        customer_upsert(actor=actor, **fields)

    assert error_field in error.value.message_dict
    assert not Customer.objects.exists()


def test_customer_upsert__seen_at__only_moves_forward(actor):
    later = datetime(2026, 5, 1, tzinfo=UTC)
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    customer_upsert(external_id="u-1", seen_at=later, actor=actor)

    customer_upsert(external_id="u-1", seen_at=earlier, actor=actor)

    assert Customer.objects.get().last_seen_at == later


def test_customer_erase__all_their_data_gone_others_kept(static_segment, actor):
    # Given a customer with an event, a membership, history and an enrollment
    erased = customer_upsert(external_id="gone", actor=actor).customer
    kept = customer_upsert(external_id="kept", actor=actor).customer
    campaign_create(
        name="Audience", status="active", segments=[static_segment], actor=actor
    )
    segment_members_add(segment=static_segment, customers=[erased, kept], actor=actor)
    event_record(customer=erased, name="Sign Up")
    event_record(customer=kept, name="Sign Up")

    # When they are erased
    removed = customer_erase(customer=erased, actor=actor)

    # Then nothing of theirs remains, and the other customer is untouched
    assert removed["Customer"] == 1
    assert removed["Event"] == removed["Membership"] == removed["Enrollment"] == 1
    for model in (Event, Membership, MembershipChange, Enrollment):
        assert not model.objects.filter(customer=erased).exists(), model
        assert model.objects.filter(customer=kept).exists(), model
    assert not Customer.objects.filter(external_id="gone").exists()
