import pytest

from webhooks.models import WebhookEndpoint

from .receiver import start_receiver


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    if receiver.gate is not None:
        receiver.gate.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def deliver_only_when_asked(settings):
    # Tests send with webhooks_deliver() themselves, at the time they choose.
    settings.WEBHOOKS_DELIVERY = "off"


@pytest.fixture
def endpoint(db, receiver):
    return WebhookEndpoint.objects.create(
        url=receiver.url, event_types=["segment.entered", "segment.left"]
    )
