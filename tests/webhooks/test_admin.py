"""Admins register endpoints, see each message with its attempts, enable again."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from segments.models import Segment
from segments.services import Actor, segment_create, segment_members_add
from tests.admin_support import post_action
from tests.factories import CustomerFactory
from webhooks.models import WebhookEndpoint, WebhookMessage
from webhooks.services import webhooks_deliver

SYSTEM = Actor.system("tests")


def url(name, *args):
    return reverse(f"admin:webhooks_{name}", args=args)


def test_endpoint_add__form__saved_with_a_secret(admin_client, receiver):
    response = admin_client.post(
        url("webhookendpoint_add"),
        {
            "url": receiver.url,
            "description": "CRM",
            "event_types": ["segment.entered", "campaign.enrolled"],
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["segment.entered", "campaign.enrolled"]
    assert endpoint.secret.startswith("whsec_")
    assert (
        admin_client.get(url("webhookendpoint_change", endpoint.pk)).status_code == 200
    )


def test_endpoint_add__unknown_event_type__form_error_nothing_saved(
    admin_client, receiver
):
    response = admin_client.post(
        url("webhookendpoint_add"),
        {"url": receiver.url, "event_types": ["segment.joined"], "is_active": "on"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "segment.joined" in str(errors["event_types"])
    assert not WebhookEndpoint.objects.exists()


def test_endpoint_clean__no_event_type__names_the_choices(db):
    endpoint = WebhookEndpoint(url="http://127.0.0.1:9/", event_types=[])

    with pytest.raises(ValidationError, match=r"campaign\.removed"):
        endpoint.full_clean()


def test_message_page__failed_attempt__status_and_answer_shown(
    admin_client, endpoint, receiver
):
    receiver.codes = [502]
    segment = segment_create(name="VIP", type=Segment.Type.STATIC, actor=SYSTEM)
    segment_members_add(segment=segment, customers=[CustomerFactory()], actor=SYSTEM)
    webhooks_deliver()
    message = WebhookMessage.objects.get()

    listing = admin_client.get(url("webhookmessage_changelist"))
    page = admin_client.get(url("webhookmessage_change", message.pk))

    assert message.message_id in listing.content.decode()
    assert "502" in page.content.decode()
    assert "receiver down" in page.content.decode()


def test_enable_action__disabled_endpoint__active_again(admin_client, endpoint):
    WebhookEndpoint.objects.update(is_active=False, disabled_reason="Failing")

    post_action(admin_client, url("webhookendpoint_changelist"), "enable", [endpoint])

    endpoint.refresh_from_db()
    assert endpoint.is_active and not endpoint.disabled_reason
