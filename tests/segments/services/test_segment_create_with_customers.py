import pytest
from django.core.exceptions import ValidationError

from segments.models import Customer, Membership, Segment
from segments.services import segment_create_with_customers
from tests.factories import CustomerFactory


def test_segment_create_with_customers__new_and_known__created_updated_added(actor):
    # Given one customer who exists already
    known = CustomerFactory(external_id="u1", first_name="Old")

    # When a segment is created with them and a new person
    result = segment_create_with_customers(
        name="Imported",
        type=Segment.Type.STATIC,
        actor=actor,
        customers=[
            {"external_id": "u1", "first_name": "New"},
            {"external_id": "u2", "email": "U2@Example.com", "attributes": {"x": 1}},
        ],
    )

    # Then both are members, the known one updated, the new one created
    known.refresh_from_db()
    assert known.first_name == "New"
    new = Customer.objects.get(external_id="u2")
    assert (new.email, new.attributes) == ("u2@example.com", {"x": 1})
    assert result.customers == [known, new]
    members = Membership.objects.filter(segment=result.segment)
    assert {m.customer_id for m in members} == {known.pk, new.pk}


def test_segment_create_with_customers__bad_row__errors_name_row_nothing_saved(actor):
    CustomerFactory(external_id="taken", email="taken@example.com")

    with pytest.raises(ValidationError) as raised:
        segment_create_with_customers(
            name="Imported",
            type=Segment.Type.STATIC,
            actor=actor,
            customers=[
                {"external_id": "u1"},
                {"external_id": "u2", "email": "taken@example.com"},
            ],
        )

    assert list(raised.value.message_dict) == ["customers[1].email"]
    assert not Segment.objects.filter(name="Imported").exists()
    assert not Customer.objects.filter(external_id__in=["u1", "u2"]).exists()


def test_segment_create_with_customers__segment_invalid__no_customer_saved(actor):
    with pytest.raises(ValidationError) as raised:
        segment_create_with_customers(
            name="",
            type=Segment.Type.STATIC,
            actor=actor,
            customers=[{"external_id": "u1"}],
        )

    assert "name" in raised.value.message_dict
    assert not Customer.objects.exists()
