"""A person edits a customer's attributes as a table: changes a value, adds a row,
removes one, and is told at the row when a value does not fit its type."""

import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_attributes__table_edited__saved(admin_page, live_server, shot):
    # Given a customer with a channel and a plan
    customer = CustomerFactory(
        external_id="ann", attributes={"channel": "Facebook", "plan": "free"}
    )
    page = admin_page
    page.goto(f"{live_server.url}/admin/segments/customer/{customer.pk}/change/")
    table = page.get_by_role("table", name="Attributes")
    assert table.get_by_label("Attribute 2 name").input_value() == "plan"
    shot(page, "attributes")

    # When they change the plan, remove the channel and add a reward amount
    table.get_by_label("Attribute 2 value").fill("pro")
    table.get_by_label("Remove attribute 1").check()
    page.get_by_role("button", name="Add an attribute").click()
    table.get_by_label("Attribute 4 name").fill("reward")
    table.get_by_label("Attribute 4 value").fill("eighty")
    table.get_by_label("Attribute 4 type").select_option(label="number")
    page.get_by_role("button", name="Save and continue editing").click()

    # Then the value that is not a number is refused at its row, nothing saved
    row = page.get_by_role("row").filter(has_text="Enter a number")
    row.wait_for()
    assert row.get_by_label("Attribute 4 name").input_value() == "reward"
    customer.refresh_from_db()
    assert customer.attributes == {"channel": "Facebook", "plan": "free"}
    shot(page, "bad-number")

    # When they correct it and save
    row.get_by_label("Attribute 4 value").fill("80")
    page.get_by_role("button", name="Save and continue editing").click()

    # Then the attributes are the rows kept, the number a number
    page.locator(".messagelist .success").wait_for()
    customer.refresh_from_db()
    assert customer.attributes == {"plan": "pro", "reward": 80}
    assert table.get_by_label("Attribute 2 type").input_value() == "number"
    shot(page, "saved")
