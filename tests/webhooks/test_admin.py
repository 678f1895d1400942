"""Admins register endpoints, see each message with its attempts, enable again."""

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
            "event_types": '["segment.entered"]',
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert (
        admin_client.get(url("webhookendpoint_change", endpoint.pk)).status_code == 200
    )


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
