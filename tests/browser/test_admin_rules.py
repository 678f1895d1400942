import json

import pytest

from segments.models import Membership, Segment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

RULES = {
    "match": "all",
    "conditions": [
        {"field": "attributes.channel", "operator": "equals", "value": "Facebook"},
        {"field": "attributes.spend", "operator": "gte", "value": 100},
    ],
}


def test_admin__preview_then_save_rule_segment__members_computed(
    admin_page, live_server
):
    # Given customers, two of them big Facebook spenders
    CustomerFactory(
        external_id="big-1", attributes={"channel": "Facebook", "spend": 150}
    )
    CustomerFactory(
        external_id="big-2", attributes={"channel": "facebook", "spend": 100}
    )
    CustomerFactory(external_id="small", attributes={"channel": "Facebook", "spend": 5})

    # When a marketer writes rules and previews them before saving
    admin_page.goto(f"{live_server.url}/admin/segments/segment/add/")
    admin_page.fill("#id_name", "Big Facebook spenders")
    admin_page.select_option("#id_type", "rule")
    # (the JSON is the builder's advanced view)
    admin_page.get_by_text("Advanced: the rules as JSON").click()
    admin_page.fill("#id_rules", json.dumps(RULES))

    # Then the live preview shows the count, each condition's count and a sample
    admin_page.get_by_role("status").filter(has_text="2 customers match").wait_for()
    channel = admin_page.get_by_role("group", name="Condition 1")
    spend = admin_page.get_by_role("group", name="Condition 2")
    assert channel.get_by_label("Matching customers").inner_text() == "3 match"
    assert spend.get_by_label("Matching customers").inner_text() == "2 match"
    sample = admin_page.locator("#rb-preview-sample a").all_inner_texts()
    assert sorted(text.split(" ")[0] for text in sample) == ["big-1", "big-2"]
    assert not Segment.objects.exists()

    # When they save, the members are computed in the background and shown
    admin_page.click("input[name=_save]")
    admin_page.wait_for_selector(".messagelist .success")
    admin_page.wait_for_load_state("networkidle")  # see test_admin_memberships.py
    segment = Segment.objects.get(name="Big Facebook spenders")
    assert set(
        Membership.objects.filter(segment=segment).values_list(
            "customer__external_id", flat=True
        )
    ) == {"big-1", "big-2"}
    row = admin_page.locator("#result_list tr", has_text="Big Facebook spenders")
    assert row.locator("td.field-members").inner_text() == "2"
    assert "Up to date" in row.locator("td.field-computation").inner_text()
