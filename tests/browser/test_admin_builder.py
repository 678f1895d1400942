"""A marketer builds CustomerGlu's guide segment with the condition builder, no JSON:
event-triggered by "Sign Up", signed up after 2025-01-01, and channel Facebook OR
reward amount over 50."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from segments.models import Segment
from segments.rules import rule_to_dict
from segments.selectors import segment_rule_spec
from tests.factories import CustomerFactory, EventFactory

pytestmark = pytest.mark.django_db(transaction=True)

GUIDE_RULES = {
    "match": "all",
    "conditions": [{"field": "created_at", "operator": "after", "value": "2025-01-01"}],
    "rules": [
        {
            "match": "any",
            "conditions": [
                {
                    "field": "attributes.channel",
                    "operator": "equals",
                    "value": "Facebook",
                },
                {"field": "event.reward_amount", "operator": "gt", "value": 50},
            ],
            "rules": [],
        }
    ],
}


def signed_up(external_id, day, channel, reward):
    customer = CustomerFactory(
        external_id=external_id,
        created_at=datetime(*day, tzinfo=UTC),
        attributes={"channel": channel},
    )
    EventFactory(
        customer=customer, name="Sign Up", properties={"reward_amount": reward}
    )


def test_builder__guide_segment__preview_changes_saved_then_backfilled(
    admin_page, live_server, shot
):
    # Given four sign-ups: two match the guide's segment (Facebook; reward 80)
    signed_up("fb-2025", (2025, 3, 1), "Facebook", 10)
    signed_up("rich-2025", (2025, 2, 1), "Google", 80)
    signed_up("poor-2025", (2025, 4, 1), "Google", 10)
    signed_up("fb-2024", (2024, 6, 1), "Facebook", 90)
    page = admin_page
    preview = page.get_by_role("status")

    # When the marketer starts an event-triggered segment on "Sign Up"
    page.goto(f"{live_server.url}/admin/segments/segment/add/")
    page.get_by_label("Name:").fill("Guide sign-ups")
    leave_after = page.get_by_label("Members leave after (days):")
    page.get_by_label("Type:").select_option(label="Rule")
    assert leave_after.is_hidden()  # event segments only
    page.get_by_label("Type:").select_option(label="Event-triggered")
    page.get_by_label("Trigger event:").fill("Sign Up")
    page.get_by_label("Trigger event:").blur()
    leave_after.fill("90")

    # And adds "Sign up date is after 2025-01-01"
    page.get_by_role("button", name="Add a condition").click()
    signup = page.get_by_role("group", name="Condition 1")
    signup.get_by_label("Field").select_option(label="Sign up date")
    signup.get_by_label("Operator").select_option(label="is after")
    signup.get_by_label("Value").fill("2025-01-01")

    # Then the preview counts the three 2025 sign-ups, as past triggers
    preview.filter(has_text="3 customers match").wait_for()
    assert 'past triggers: customers who did "Sign Up"' in preview.inner_text()
    shot(page, "signup-date")

    # When they add a group: channel is Facebook OR reward amount > 50
    page.get_by_role("button", name="Add a group").last.click()
    group = page.get_by_role("group", name="Group 1", exact=True)
    group.get_by_label("Match").first.select_option(label="ANY of these")
    group.get_by_role("button", name="Add a condition").click()
    group.get_by_role("button", name="Add a condition").click()
    channel = page.get_by_role("group", name="Group 1, condition 1")
    channel.get_by_label("Field").select_option(label="channel (text)")
    channel.get_by_label("Operator").select_option(label="is")
    channel.get_by_label("Value").fill("Facebook")
    reward = page.get_by_role("group", name="Group 1, condition 2")
    reward.get_by_label("Field").select_option(label="reward_amount (number)")
    reward.get_by_label("Operator").select_option(label="is greater than")
    reward.get_by_label("Value").fill("50")

    # Then the preview narrows to the two who qualify, counted per top-level part
    preview.filter(has_text="2 customers match").wait_for()
    counts = page.locator("#rule-builder-tree > .rb-group > * > .rb-row > .rb-count")
    assert counts.all_inner_texts() == ["3 match", "3 match"]
    shot(page, "guide-built")

    # When they save
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".messagelist .success").wait_for()
    page.wait_for_load_state("networkidle")  # see test_admin_memberships.py
    shot(page, "saved")

    # Then the segment holds exactly the tree built
    segment = Segment.objects.get(name="Guide sign-ups")
    assert (segment.type, segment.trigger_event) == ("event", "Sign Up")
    assert segment.exit_after_days == 90
    assert rule_to_dict(segment_rule_spec(segment=segment)) == GUIDE_RULES

    # When they open it: no members yet, the page says what the preview counted
    page.get_by_role("table").get_by_role("link", name="Guide sign-ups").click()
    overview = page.get_by_role("region", name="Overview")
    overview.get_by_role("link", name="0 members").wait_for()
    assert "counts past triggers" in overview.inner_text()

    # And backfill the sign-ups of the last 30 days
    backfill = page.get_by_role("form", name="Past triggers")
    backfill.get_by_label("Only triggers of the last").fill("30")
    backfill.get_by_role("button", name="Backfill").click()

    # Then the two who qualify entered, and they are back on the segment page
    page.get_by_text("Backfill: 2 customers entered").wait_for()
    overview.get_by_role("link", name="2 members").wait_for()
    assert "/change/" in page.url
    shot(page, "backfilled")


def test_builder__condition_at_fault__error_shown_at_it(admin_page, live_server):
    page = admin_page
    page.goto(f"{live_server.url}/admin/segments/segment/add/")
    page.get_by_label("Type:").select_option(label="Rule")

    # When a condition has a field but no value
    page.get_by_role("button", name="Add a condition").click()
    condition = page.get_by_role("group", name="Condition 1")
    condition.get_by_label("Field").select_option(label="Email")
    condition.get_by_label("Operator").select_option(label="contains")

    # Then the fault is shown on that condition, and the JSON follows the builder
    condition.get_by_text("contains needs a value").wait_for()
    page.get_by_text("Advanced: the rules as JSON").click()
    assert '"field": "email"' in page.get_by_label("Rules:").input_value()


def test_builder__unseen_trigger_event__warned(admin_page, live_server):
    EventFactory(name="Sign Up")
    page = admin_page
    page.goto(f"{live_server.url}/admin/segments/segment/add/")
    page.get_by_label("Type:").select_option(label="Event-triggered")

    page.get_by_label("Trigger event:").fill("Sing Up")

    page.get_by_text('No "Sing Up" event has arrived yet').wait_for()


def test_builder__relative_dates__preview_counts_and_saved_as_days_ago(
    admin_page, live_server, shot
):
    # Given customers who signed up 3, 20 and 100 days ago
    now = timezone.now()
    for days in (3, 20, 100):
        CustomerFactory(created_at=now - timedelta(days=days))
    page = admin_page
    preview = page.get_by_role("status")
    page.goto(f"{live_server.url}/admin/segments/segment/add/")
    page.get_by_label("Name:").fill("Recent sign-ups")
    page.get_by_label("Type:").select_option(label="Rule")

    # When the marketer asks for a sign-up date in the last 30 days
    page.get_by_role("button", name="Add a condition").click()
    signup = page.get_by_role("group", name="Condition 1")
    signup.get_by_label("Field").select_option(label="Sign up date")
    signup.get_by_label("Operator").select_option(label="is after")
    signup.get_by_label("Date kind").select_option(label="days ago")
    signup.get_by_label("Days ago").fill("30")

    # Then the builder says it in words and the preview counts the two recent ones
    signup.get_by_text("in the last 30 days").wait_for()
    preview.filter(has_text="2 customers match").wait_for()
    shot(page, "in-the-last-30-days")

    # When they turn it around: signed up more than 50 days ago
    signup.get_by_label("Operator").select_option(label="is before")
    signup.get_by_label("Date kind").select_option(label="days ago")
    signup.get_by_label("Days ago").fill("50")

    # Then the words and the count follow
    signup.get_by_text("more than 50 days ago").wait_for()
    preview.filter(has_text="1 customer matches").wait_for()
    shot(page, "more-than-50-days-ago")

    # And it is saved with the rule engine's relative syntax
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".messagelist .success").wait_for()
    page.wait_for_load_state("networkidle")
    segment = Segment.objects.get(name="Recent sign-ups")
    condition = rule_to_dict(segment_rule_spec(segment=segment))["conditions"][0]
    assert condition == {"field": "created_at", "operator": "before", "value": "-50d"}
