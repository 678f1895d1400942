"""A marketer on a segment's page: adds and removes a test user, reads the stats,
chart and history, and asks why a member is in."""

import pytest

from segments.models import Membership
from segments.services import Actor, segment_create, segment_members_add
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_segment_page__test_user_stats_history_why(admin_page, live_server, shot):
    # Given a segment with two members
    actor = Actor.system("tests")
    segment = segment_create(name="Beta testers", type="static", actor=actor)
    ada, bob = CustomerFactory(external_id="ada"), CustomerFactory(external_id="bob")
    segment_members_add(segment=segment, customers=[ada, bob], actor=actor)
    page = admin_page
    stats = page.get_by_role("region", name="Overview")

    # When the marketer opens it, they read the stats, chart and history
    page.goto(f"{live_server.url}/admin/segments/segment/{segment.pk}/change/")
    assert stats.get_by_role("link", name="2 members").is_visible()
    assert page.get_by_role("img", name="Daily joins").is_visible()
    history = page.get_by_role("table", name="Membership history")
    assert history.get_by_role("row").count() == 3  # a header and two entries
    shot(page, "segment-page")

    # When they add a test user by an email nobody has yet
    page.get_by_label("Add a test user").fill("tester@example.com")
    page.get_by_role("button", name="Add test user").click()

    # Then they are back on the segment page, the test user apart from the stats
    page.get_by_text("is now a test user").wait_for()
    assert "/change/" in page.url
    page.get_by_role("link", name="1 test users").wait_for()
    assert page.get_by_role("link", name="2 members").is_visible()
    shot(page, "test-user-added")

    # When they remove the test users from the segment's test-user list
    page.get_by_role("link", name="1 test users").click()
    page.get_by_role("checkbox", name="Select all objects on this page").check()
    page.get_by_label("Action:").select_option(label="Remove test users")
    page.get_by_role("button", name="Run").click()

    # Then they are back on the segment page and the test user is gone
    page.get_by_role("link", name="0 test users").wait_for()
    assert not Membership.objects.filter(segment=segment, is_test=True).exists()
    shot(page, "test-user-removed")

    # When they ask why ada is a member
    page.get_by_role("link", name="2 members").click()
    row = page.get_by_role("row").filter(has_text="ada")
    row.get_by_role("link", name="Why?").click()

    # Then the page says how she got in
    page.get_by_role("heading", name="Why ada is in Beta testers").wait_for()
    assert "Entered" in page.get_by_role("row", name="Entered").inner_text()
    shot(page, "why")
