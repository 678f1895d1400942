import json

import pytest

from segments.models import Membership, MembershipChange, Segment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def pick(page, field, text):
    """Choose `text` in an autocomplete (select2) field."""
    page.click(f"[aria-labelledby='select2-id_{field}-container']")
    page.fill(".select2-search__field", text)
    page.click(f".select2-results__option:has-text('{text}')")


def test_admin__create_segment_then_add_member__rows_and_history(
    admin_page, live_server
):
    # Given a customer
    customer = CustomerFactory(external_id="ada-1", email="ada@example.com")

    # When a marketer creates a static segment in the admin
    admin_page.goto(f"{live_server.url}/admin/segments/segment/add/")
    admin_page.fill("#id_name", "Beta testers")
    admin_page.select_option("#id_type", "static")
    admin_page.click("input[name=_save]")
    admin_page.wait_for_selector(".messagelist .success")
    # On SQLite the live server shares this thread's connection: let the segment
    # page's own requests finish before this thread reads.
    admin_page.wait_for_load_state("networkidle")

    # And adds the customer to it from the membership form
    segment = Segment.objects.get(name="Beta testers")
    admin_page.goto(f"{live_server.url}/admin/segments/membership/add/")
    pick(admin_page, "segment", "Beta testers")
    pick(admin_page, "customer", "ada-1")
    admin_page.click("input[name=_save]")
    admin_page.wait_for_selector(".messagelist .success")
    admin_page.wait_for_load_state("networkidle")

    # Then the membership and its history row exist, made by alice
    membership = Membership.objects.get(segment=segment, customer=customer)
    assert membership.source == "admin"
    change = MembershipChange.objects.get(segment=segment)
    assert (change.action, change.actor_label) == ("entered", "admin: alice")

    # And the segment list shows one member
    admin_page.goto(f"{live_server.url}/admin/segments/segment/")
    row = admin_page.locator("#result_list tr", has_text="Beta testers")
    assert row.locator("td.field-members").inner_text() == "1"


def test_admin__rule_segment_with_unknown_operator__error_shown_nothing_saved(
    admin_page, live_server
):
    rules = {
        "match": "all",
        "conditions": [
            {"field": "attributes.channel", "operator": "sounds_like", "value": "x"}
        ],
    }

    admin_page.goto(f"{live_server.url}/admin/segments/segment/add/")
    admin_page.fill("#id_name", "Typos")
    admin_page.select_option("#id_type", "rule")
    admin_page.get_by_text("Advanced: the rules as JSON").click()
    admin_page.fill("#id_rules", json.dumps(rules))
    admin_page.click("input[name=_save]")

    error = admin_page.locator(".field-rules .errorlist").inner_text()
    assert "conditions[0].operator: unknown operator 'sounds_like'" in error
    assert not Segment.objects.exists()
