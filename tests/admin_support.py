"""What the admin tests of every app share."""

from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext


def errors(response):
    assert response.status_code == 200, "expected the form back with errors"
    return response.context["adminform"].form.errors


def messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def post_action(client, changelist_url, action, objs, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objs], **extra}
    return client.post(changelist_url, data)


def count_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def check_changelist_scales(client, url, model, add_rows):
    """The list costs the same queries with one set of rows as with three (no query
    per row) and shows them all; its first row's page loads."""
    add_rows(1)
    queries = count_queries(client, url(f"{model}_changelist"))

    add_rows(2)
    add_rows(3)

    assert count_queries(client, url(f"{model}_changelist")) == queries
    response = client.get(url(f"{model}_changelist"))
    assert len(response.context["cl"].result_list) >= 3
    obj = response.context["cl"].result_list[0]
    assert client.get(url(f"{model}_change", obj.pk)).status_code == 200


def attribute_rows(*rows, initial=0):
    """The customer form's attribute rows as the page posts them: (name, value,
    type) tuples, with a fourth item "remove" to tick a row's Remove box."""
    data = {
        "attributes-TOTAL_FORMS": len(rows),
        "attributes-INITIAL_FORMS": initial,
        "attributes-MIN_NUM_FORMS": 0,
        "attributes-MAX_NUM_FORMS": 1000,
    }
    for i, (key, value, kind, *remove) in enumerate(rows):
        data[f"attributes-{i}-key"] = key
        data[f"attributes-{i}-value"] = value
        data[f"attributes-{i}-type"] = kind
        if remove:
            data[f"attributes-{i}-DELETE"] = "on"
    return data
