"""A marketer watches events arrive: one sent through the API shows up on the
ingestion page without a reload."""

import pytest
from rest_framework.test import APIClient

from segments.services import Actor, api_key_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_ingestion_page__event_sent_through_api__appears_without_reload(
    admin_page, live_server, shot
):
    CustomerFactory(external_id="ada")
    key = api_key_create(name="Site", scopes=["ingest"], actor=Actor.system("tests"))
    page = admin_page
    page.goto(f"{live_server.url}/admin/segments/event/live/")
    latest = page.get_by_role("table", name="Latest events")
    assert page.get_by_text("No event matches.").is_visible()

    # When the site sends an event through the API
    api = APIClient()
    api.credentials(HTTP_X_API_KEY=key.key)
    response = api.post(
        f"{live_server.url}/api/v1/events",
        {"user_id": "ada", "name": "Sign Up", "properties": {"reward": 80}},
        format="json",
    )
    assert response.status_code in (200, 201, 202), response.content

    # Then it appears on the page, which was not reloaded
    latest.get_by_role("row").filter(has_text="Sign Up").wait_for()
    assert '"reward": 80' in latest.inner_text()
    counts = page.get_by_role("table", name="Events by name (last 7 days)")
    assert counts.get_by_role("row").filter(has_text="Sign Up").is_visible()
    shot(page, "event-arrived")
