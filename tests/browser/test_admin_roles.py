"""A marketer works with segments but is refused the API keys page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)


def test_marketer__api_keys_page__refused(marketer_page, live_server, shot):
    page = marketer_page

    # Given a marketer on the dashboard: no API keys in the navigation
    assert page.get_by_role("link", name="Segments").first.is_visible()
    assert page.get_by_role("link", name="API keys").count() == 0
    shot(page, "marketer-dashboard")

    # When they open the API keys page by its address
    response = page.goto(live_server.url + reverse("admin:segments_apikey_changelist"))

    # Then they are refused, told why, and shown the way back
    assert response.status == 403
    page.get_by_role("heading", name="You are not allowed to open this page").wait_for()
    shot(page, "api-keys-refused")
    page.get_by_role("link", name="Back to the dashboard").click()
    page.get_by_role("link", name="Segments").first.wait_for()
    assert page.url == live_server.url + reverse("admin:index")
