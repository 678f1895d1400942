"""Update services write only what changed, and refuse a row deleted meanwhile
(Model.DoesNotExist, which the API answers with 404) instead of bringing it back."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Campaign
from campaigns.services import campaign_create, campaign_update, enrollment_add
from segments.models import Customer, Event, Segment
from segments.services import (
    customer_upsert,
    event_record,
    segment_create,
    segment_members_add,
    segment_override_set,
    segment_test_user_add,
    segment_update,
)
from tests.factories import CustomerFactory


def test_campaign_update__deleted_meanwhile__does_not_exist_and_not_resurrected(
    actor,
):
    # Given a campaign a PATCH has read, then a DELETE removed
    campaign = campaign_create(name="Spring", actor=actor)
    Campaign.objects.filter(pk=campaign.pk).delete()

    # When the PATCH's service runs
    with pytest.raises(Campaign.DoesNotExist, match=f"Campaign {campaign.pk} no "):
        campaign_update(campaign=campaign, actor=actor, description="x")

    # Then the campaign stays deleted
    assert not Campaign.objects.exists()


def test_campaign_update__other_field_changed_meanwhile__kept(actor):
    # Given a campaign read by one request while another renames it
    campaign = campaign_create(name="Spring", actor=actor)
    Campaign.objects.filter(pk=campaign.pk).update(name="Summer")

    # When the first changes only the description
    campaign_update(campaign=campaign, actor=actor, description="New copy")

    # Then the other request's name is not overwritten with the stale one
    stored = Campaign.objects.get()
    assert (stored.name, stored.description) == ("Summer", "New copy")


def test_segment_update__deleted_meanwhile__does_not_exist_and_not_resurrected(
    actor,
):
    segment = segment_create(name="VIP", type=Segment.Type.STATIC, actor=actor)
    Segment.objects.filter(pk=segment.pk).delete()

    with pytest.raises(Segment.DoesNotExist, match=f"Segment {segment.pk} no "):
        segment_update(segment=segment, actor=actor, description="x")

    assert not Segment.objects.exists()


def test_segment_update__other_field_changed_meanwhile__kept(actor):
    segment = segment_create(name="VIP", type=Segment.Type.STATIC, actor=actor)
    Segment.objects.filter(pk=segment.pk).update(description="Theirs")

    segment_update(segment=segment, actor=actor, name="Very important")

    stored = Segment.objects.get()
    assert (stored.name, stored.description) == ("Very important", "Theirs")


def test_segment_update__nothing_changed__row_not_written(actor):
    segment = segment_create(name="VIP", type=Segment.Type.STATIC, actor=actor)
    before = Segment.objects.get().updated_at

    segment_update(segment=segment, actor=actor, name="VIP")

    assert Segment.objects.get().updated_at == before


def test_customer_upsert__other_field_changed_meanwhile__kept(actor):
    customer_upsert(external_id="u-1", first_name="Ada", actor=actor)
    Customer.objects.filter(external_id="u-1").update(last_name="Lovelace")

    customer_upsert(external_id="u-1", phone="+4712345678", actor=actor)

    stored = Customer.objects.get()
    assert (stored.first_name, stored.last_name) == ("Ada", "Lovelace")
    assert stored.phone == "+4712345678"


@pytest.mark.parametrize(
    "external_id", ["a/b", "/", "nul\x00", "line\nbreak", "tab\tid", "del\x7f"]
)
def test_customer_upsert__unusable_character_in_id__refused_nothing_saved(
    actor, external_id
):
    with pytest.raises(ValidationError) as error:
        customer_upsert(external_id=external_id, actor=actor)

    assert '"/" or control characters' in error.value.message_dict["external_id"][0]
    assert not Customer.objects.exists()


def test_customer_upsert__id_too_long__refused_before_the_database(actor):
    with pytest.raises(ValidationError) as error:
        customer_upsert(external_id="x" * 256, actor=actor)

    assert "at most 255" in error.value.message_dict["external_id"][0]


@pytest.mark.parametrize(
    "write",
    [
        lambda segment, customer, actor: segment_override_set(
            segment=segment, customer=customer, user_status="add", actor=actor
        ),
        lambda segment, customer, actor: segment_test_user_add(
            segment=segment, customer=customer, actor=actor
        ),
        lambda segment, customer, actor: segment_members_add(
            segment=segment, customers=[customer], actor=actor
        ),
        lambda segment, customer, actor: event_record(customer=customer, name="x"),
    ],
    ids=["override", "test_user", "members_add", "event"],
)
def test_write_naming_customer__erased_meanwhile__does_not_exist_nothing_written(
    static_segment, actor, write
):
    # Given a customer a request has looked up, then erased by another
    customer = CustomerFactory()
    Customer.objects.filter(pk=customer.pk).delete()

    # When the request's write runs: a 404 with a sentence, not a crash
    with pytest.raises(Customer.DoesNotExist, match=f"{customer.external_id} no "):
        write(static_segment, customer, actor)

    assert not static_segment.memberships.exists()
    assert not Event.objects.exists()


def test_enrollment_add__customer_erased_meanwhile__does_not_exist(actor):
    campaign = campaign_create(name="Spring", status="active", actor=actor)
    customer = CustomerFactory()
    Customer.objects.filter(pk=customer.pk).delete()

    with pytest.raises(Customer.DoesNotExist):
        enrollment_add(campaign=campaign, customer=customer, actor=actor)

    assert not campaign.enrollments.exists()
