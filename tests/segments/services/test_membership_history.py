"""The membership history has no foreign key constraints in the database (bulk adds
are faster without their checks at COMMIT): what the constraints would have done,
Django and the services still do."""

import pytest
from django.contrib.auth import get_user_model

from campaigns.models import Enrollment
from campaigns.services import campaign_create
from segments.models import ApiKey, Customer, Membership, MembershipChange, Segment
from segments.services import (
    Actor,
    api_key_create,
    segment_create,
    segment_delete,
    segment_members_add,
)
from tests.factories import CustomerFactory


def test_history__segment_deleted__its_changes_deleted_others_kept(actor):
    # Given two segments with a member each
    kept, gone = (
        segment_create(name=name, type=Segment.Type.STATIC, actor=actor)
        for name in ("Kept", "Gone")
    )
    customer = CustomerFactory()
    for segment in (kept, gone):
        segment_members_add(segment=segment, customers=[customer], actor=actor)

    # When one segment is deleted
    segment_delete(segment=gone, actor=actor)

    # Then its history goes with it; the other's stays
    segments = set(MembershipChange.objects.values_list("segment_id", flat=True))
    assert segments == {kept.pk}


def test_history__customer_deleted__changes_kept_without_customer(
    static_segment, actor
):
    # Given a member's entry in the history, and another customer's
    leaving, staying = CustomerFactory.create_batch(2)
    segment_members_add(
        segment=static_segment, customers=[leaving, staying], actor=actor
    )

    # When the row of one of them is deleted outright (not erased)
    Customer.objects.filter(pk=leaving.pk).delete()

    # Then the change stays, naming nobody; the other one still names theirs
    customers = sorted(
        MembershipChange.objects.values_list("customer_id", flat=True),
        key=lambda pk: pk or 0,
    )
    assert customers == [None, staying.pk]


@pytest.mark.parametrize("who", ["user", "api key"])
def test_history__actor_deleted__changes_kept_with_label(static_segment, who):
    # Given a change made by an admin user or an API key
    if who == "user":
        user = get_user_model().objects.create(username="bob")
        actor = Actor.admin(user)
    else:
        key = api_key_create(name="CRM", scopes=["write"], actor=Actor.system("t"))
        actor = Actor.api(key.api_key)
    segment_members_add(
        segment=static_segment, customers=[CustomerFactory()], actor=actor
    )

    # When the user or the key is deleted
    if who == "user":
        user.delete()
    else:
        ApiKey.objects.filter(pk=key.api_key.pk).delete()

    # Then the change is kept: who made it is no longer linked, but still named
    change = MembershipChange.objects.get()
    assert (change.actor_user_id, change.actor_api_key_id) == (None, None)
    assert change.actor_label == actor.label


def test_members_add__one_customer_gone_meanwhile__whole_batch_refused(actor):
    # Given a static segment that is a live campaign's audience, and a batch of
    # customers one of whom is deleted after being read
    segment = segment_create(name="Audience", type=Segment.Type.STATIC, actor=actor)
    campaign_create(name="Spring", status="active", segments=[segment], actor=actor)
    batch = CustomerFactory.create_batch(5)
    Customer.objects.filter(pk=batch[2].pk).delete()

    # When the batch is added
    with pytest.raises(Customer.DoesNotExist, match=batch[2].external_id):
        segment_members_add(segment=segment, customers=batch, actor=actor)

    # Then nothing of it is written: no member, no history row, no enrollment
    assert not Membership.objects.exists()
    assert not MembershipChange.objects.exists()
    assert not Enrollment.objects.exists()
