"""campaign.enrolled and campaign.removed: who, which campaign, why; filtered by the
endpoint's segments through the campaign's audience; nothing for rolled-back work."""

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from campaigns.models import Campaign
from campaigns.services import campaign_create, enrollment_add, enrollment_remove
from segments.models import Segment
from segments.services import Actor, event_ingest, segment_create, segment_members_add
from segments.services.api_keys import api_key_create
from tests.factories import CustomerFactory
from webhooks.models import WebhookEndpoint, WebhookMessage
from webhooks.services import webhooks_deliver

SYSTEM = Actor.system("tests")
CAMPAIGN_EVENTS = ["campaign.enrolled", "campaign.removed"]


@pytest.fixture
def campaign_endpoint(db, receiver):
    return WebhookEndpoint.objects.create(url=receiver.url, event_types=CAMPAIGN_EVENTS)


def live_campaign(*segments, name="Welcome"):
    return campaign_create(
        name=name, status=Campaign.Status.ACTIVE, segments=segments, actor=SYSTEM
    )


def test_campaign_enrolled__event_enters_audience__signed_payload_names_campaign(
    campaign_endpoint, receiver, django_capture_on_commit_callbacks
):
    # Given a live campaign whose audience is an event-triggered segment
    signups = segment_create(
        name="Sign-ups", type="event", trigger_event="Sign Up", actor=SYSTEM
    )
    campaign = live_campaign(signups)

    # When a sign-up arrives for a new customer
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(actor=SYSTEM, user_id="u1", name="Sign Up", message_id="m-1")
    webhooks_deliver()

    # Then one campaign.enrolled message says who entered, where from and why
    (request,) = receiver.requests
    payload = Webhook(campaign_endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "campaign.enrolled"
    data = payload["data"]
    assert data["campaign"] == {"id": campaign.pk, "name": "Welcome"}
    assert [(c["id"], c["source"], c["segment_id"]) for c in data["customers"]] == [
        ("u1", "segment", signups.pk)
    ]
    assert data["actor"] == "event: Sign Up"
    assert data["description"] == 'Entered the audience segment "Sign-ups"'


def test_campaign_removed__then_added_back__both_sent_with_the_actor(
    campaign_endpoint, receiver
):
    customer = CustomerFactory(external_id="u2")
    campaign = live_campaign()
    key = api_key_create(name="CRM sync", scopes=["write"], actor=SYSTEM).api_key
    api = Actor.api(key)

    enrollment_add(campaign=campaign, customer=customer, actor=api)
    enrollment_remove(campaign=campaign, customer=customer, actor=api)
    enrollment_remove(campaign=campaign, customer=customer, actor=api)  # no change
    webhooks_deliver()

    sent = [r.json for r in receiver.requests]
    assert [p["type"] for p in sent] == ["campaign.enrolled", "campaign.removed"]
    assert [p["data"]["customers"][0]["source"] for p in sent] == ["api", "api"]
    assert {p["data"]["actor"] for p in sent} == {api.label}


def test_campaign_enrolled__campaign_goes_live__one_page_per_thousand(
    campaign_endpoint, receiver, settings
):
    # Given 5 members and pages of 2
    settings.WEBHOOKS_PAGE_SIZE = 2
    vip = segment_create(name="VIP", type=Segment.Type.STATIC, actor=SYSTEM)
    segment_members_add(
        segment=vip, customers=CustomerFactory.create_batch(5), actor=SYSTEM
    )

    # When a campaign over them goes live
    live_campaign(vip)

    # Then 3 messages carry the 5 enrollments
    messages = WebhookMessage.objects.filter(event_type="campaign.enrolled")
    assert [len(m.payload["data"]["customers"]) for m in messages.order_by("id")] == [
        2,
        2,
        1,
    ]


def test_campaign_enrolled__removed_customer_reenters_segment__nothing_sent(
    campaign_endpoint,
):
    # Given a customer removed from the campaign, out of its audience segment
    vip = segment_create(name="VIP", type=Segment.Type.STATIC, actor=SYSTEM)
    customer = CustomerFactory()
    campaign = live_campaign(vip)
    enrollment_add(campaign=campaign, customer=customer, actor=SYSTEM)
    enrollment_remove(campaign=campaign, customer=customer, actor=SYSTEM)
    WebhookMessage.objects.all().delete()

    # When they enter the audience segment
    segment_members_add(segment=vip, customers=[customer], actor=SYSTEM)

    # Then they stay removed, and no enrollment is announced
    assert not WebhookMessage.objects.exists()


def test_campaign_webhooks__segment_filter__only_campaigns_over_those_segments(
    db, receiver
):
    vip = segment_create(name="VIP", type=Segment.Type.STATIC, actor=SYSTEM)
    other = segment_create(name="Other", type=Segment.Type.STATIC, actor=SYSTEM)
    endpoint = WebhookEndpoint.objects.create(
        url=receiver.url, event_types=CAMPAIGN_EVENTS
    )
    endpoint.segments.set([vip])
    wanted, unwanted = live_campaign(vip, name="A"), live_campaign(other, name="B")

    for campaign in (wanted, unwanted):
        enrollment_add(campaign=campaign, customer=CustomerFactory(), actor=SYSTEM)

    (message,) = WebhookMessage.objects.all()
    assert message.payload["data"]["campaign"]["id"] == wanted.pk


def test_campaign_webhooks__rolled_back__nothing_queued(campaign_endpoint):
    campaign = live_campaign()

    with pytest.raises(RuntimeError), transaction.atomic():
        enrollment_add(campaign=campaign, customer=CustomerFactory(), actor=SYSTEM)
        raise RuntimeError("rolled back")

    assert not WebhookMessage.objects.exists()


def test_segment_endpoint__campaign_changes__not_sent(endpoint, receiver):
    # An endpoint that asked for segment changes only hears none of campaigns'.
    enrollment_add(campaign=live_campaign(), customer=CustomerFactory(), actor=SYSTEM)

    assert not WebhookMessage.objects.exists()
