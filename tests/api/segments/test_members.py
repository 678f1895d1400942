from datetime import UTC, datetime, timedelta

from django.utils import timezone

from campaigns.services import campaign_create
from segments.models import Membership, MembershipChange
from segments.services import (
    segment_members_add,
    segment_members_remove,
    segment_override_set,
    segment_test_user_add,
)
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory


def url(segment, tail):
    return f"/api/v1/segments/{segment.pk}/{tail}"


def test_add_customers__known_unknown_member_blocked__counted_and_listed(
    api, rule_segment, actor
):
    # Given a member, a blocked customer and a newcomer
    member, blocked, new = CustomerFactory.create_batch(3)
    segment_members_add(segment=rule_segment, customers=[member], actor=actor)
    segment_override_set(
        segment=rule_segment, customer=blocked, user_status="block", actor=actor
    )
    ids = [member.external_id, blocked.external_id, new.external_id, "ghost"]

    response = api.post(url(rule_segment, "add_customers"), {"ids": ids})

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "added": 1,
        "already_members": 1,
        "unknown_ids": ["ghost"],
        "blocked_ids": [blocked.external_id],
    }
    row = Membership.objects.get(segment=rule_segment, customer=new)
    assert (row.source, row.override) == ("api", "add")  # pinned in a rule segment
    change = MembershipChange.objects.get(customer=new)
    assert change.actor_label == "api: CRM sync"


def test_add_customers__by_email_any_case__found(api, static_segment):
    customer = CustomerFactory(email="ann@example.com")

    response = api.post(
        url(static_segment, "add_customers") + "?id_type=email",
        {"ids": ["ANN@example.com"]},
    )

    assert response.json()["added"] == 1
    assert Membership.objects.filter(customer=customer).exists()


def test_add_customers__by_internal_id__found(api, static_segment):
    customer = CustomerFactory()

    response = api.post(
        url(static_segment, "add_customers") + "?id_type=internal_id",
        {"ids": [customer.pk, "999999"]},
    )

    assert response.json()["added"] == 1
    assert response.json()["unknown_ids"] == ["999999"]


def test_add_customers__internal_id_not_a_number__400_names_index(api, static_segment):
    response = api.post(
        url(static_segment, "add_customers") + "?id_type=internal_id",
        {"ids": ["1", "abc"]},
    )

    assert_error(response, 400, field="ids[1]")


def test_add_customers__bad_id_type__400(api, static_segment):
    response = api.post(
        url(static_segment, "add_customers") + "?id_type=phone", {"ids": ["1"]}
    )

    assert_error(response, 400, field="id_type")


def test_add_customers__over_10000_ids__400_naming_the_limit(api, static_segment):
    response = api.post(
        url(static_segment, "add_customers"),
        {"ids": [str(i) for i in range(10_001)]},
    )

    assert "At most 10,000 ids" in assert_error(response, 400, field="ids")
    assert not Membership.objects.exists()


def test_add_customers__10000_ids__accepted(api, static_segment):
    response = api.post(
        url(static_segment, "add_customers"),
        {"ids": [str(i) for i in range(10_000)]},
    )

    assert len(response.json()["unknown_ids"]) == 10_000


def test_add_customers__live_campaign_audience__members_history_enrollments(
    api, static_segment, actor
):
    # Given a static segment that is a live campaign's audience
    campaign = campaign_create(
        name="Spring", status="active", segments=[static_segment], actor=actor
    )
    customers = CustomerFactory.create_batch(30)
    ids = [c.external_id for c in customers]

    # When they are added by external id, with an unknown id among them
    response = api.post(url(static_segment, "add_customers"), {"ids": [*ids, "x"]})

    # Then each is a member, entered once in the history and enrolled
    assert response.status_code == 200, response.json()
    assert response.json()["added"] == 30
    assert response.json()["unknown_ids"] == ["x"]
    expected = sorted(c.pk for c in customers)
    members = static_segment.memberships.values_list("customer_id", flat=True)
    assert sorted(members) == expected
    changes = MembershipChange.objects.filter(segment=static_segment)
    assert sorted(changes.values_list("customer_id", flat=True)) == expected
    assert {c.actor_api_key_id for c in changes} == {response.wsgi_request.auth.pk}
    enrolled = campaign.enrollments.values_list("customer_id", flat=True)
    assert sorted(enrolled) == expected


def test_add_customers__ids_as_numbers_or_padded__taken_as_trimmed_text(
    api, static_segment
):
    # Given customers whose external ids are digits or plain text
    number, text = CustomerFactory(external_id="42"), CustomerFactory(external_id="u1")

    # When one is sent as a JSON number, the other with spaces around it
    response = api.post(url(static_segment, "add_customers"), {"ids": [42, " u1 "]})

    # Then both are found and added
    assert response.json()["added"] == 2, response.json()
    members = static_segment.memberships.values_list("customer_id", flat=True)
    assert sorted(members) == sorted([number.pk, text.pk])


def test_add_customers__blank_or_too_long_id__400_naming_its_index(api, static_segment):
    ok = CustomerFactory()

    for bad, problem in (("  ", "blank"), ("x" * 256, "255")):
        response = api.post(
            url(static_segment, "add_customers"), {"ids": [ok.external_id, bad]}
        )

        assert_error(response, 400, field="ids[1]")
        assert problem in str(response.json()["details"]["ids[1]"])
    assert not Membership.objects.exists()


def test_add_customers__ids_missing_or_wrong_type__400(api, static_segment):
    assert_error(api.post(url(static_segment, "add_customers"), {}), 400, field="ids")
    response = api.post(url(static_segment, "add_customers"), {"ids": [{"a": 1}]})
    assert_error(response, 400, field="ids[0]")


def test_add_customers__archived_segment__400_nothing_written(api, static_segment):
    static_segment.archived = True
    static_segment.save()
    customer = CustomerFactory()

    response = api.post(
        url(static_segment, "add_customers"), {"ids": [customer.external_id]}
    )

    assert "archived" in assert_error(response, 400)
    assert not Membership.objects.exists()


def test_add_customers__unknown_segment__404(api, db):
    assert_error(api.post("/api/v1/segments/999/add_customers", {"ids": ["a"]}), 404)


def test_remove_customers__member_and_not__counted(api, static_segment, actor):
    member, other = CustomerFactory.create_batch(2)
    segment_members_add(segment=static_segment, customers=[member], actor=actor)

    response = api.post(
        url(static_segment, "remove_customers"),
        {"ids": [member.external_id, other.external_id, "ghost"]},
    )

    assert response.json() == {
        "removed": 1,
        "not_members": 1,
        "unknown_ids": ["ghost"],
    }
    assert not Membership.objects.filter(segment=static_segment).exists()


def test_remove_customers__read_only_key__403(reader, static_segment):
    response = reader.post(url(static_segment, "remove_customers"), {"ids": ["a"]})

    assert_error(response, 403)


def status_body(segment, customer, user_status, **extra):
    return {
        "user": customer.external_id,
        "segment_id": segment.pk,
        "user_status": user_status,
        **extra,
    }


def test_status__block_by_email__blocked_state_answered(api, rule_segment):
    customer = CustomerFactory(email="bo@example.com")

    response = api.post(
        "/api/v1/segments/status",
        {
            "user": "bo@example.com",
            "segment_id": rule_segment.pk,
            "user_status": "block",
            "reference_id": "ref-1",
            "metadata": {"why": "fraud"},
            "description": "manual review",
        },
    )

    assert response.json() == {
        "segment_id": rule_segment.pk,
        "user_id": customer.external_id,
        "user_status": "block",
        "member": False,
        "override": "block",
        "changed": True,
        "stale": False,
    }
    change = MembershipChange.objects.get(customer=customer)
    assert (change.reference_id, change.metadata) == ("ref-1", {"why": "fraud"})
    assert change.description == "manual review"


def test_status__timestamp__used_as_occurred_at(api, rule_segment):
    customer = CustomerFactory()

    api.post(
        "/api/v1/segments/status",
        status_body(
            rule_segment, customer, "add", status_change_timestamp=1_700_000_000
        ),
    )

    change = MembershipChange.objects.get(customer=customer)
    assert change.occurred_at == datetime.fromtimestamp(1_700_000_000, UTC)


def test_status__older_timestamp__stale_state_unchanged(api, rule_segment):
    customer = CustomerFactory()
    newer = status_body(
        rule_segment, customer, "block", status_change_timestamp=1_700_000_100
    )
    older = status_body(
        rule_segment, customer, "add", status_change_timestamp=1_700_000_000
    )
    api.post("/api/v1/segments/status", newer)

    response = api.post("/api/v1/segments/status", older)

    body = response.json()
    assert (body["stale"], body["changed"], body["override"]) == (True, False, "block")
    assert MembershipChange.objects.filter(action="ignored").count() == 1


def test_status__unknown_user_or_segment__404(api, rule_segment):
    customer = CustomerFactory()
    ghost = {**status_body(rule_segment, customer, "add"), "user": "ghost"}
    nowhere = {**status_body(rule_segment, customer, "add"), "segment_id": 999}

    assert "ghost" in assert_error(api.post("/api/v1/segments/status", ghost), 404)
    assert_error(api.post("/api/v1/segments/status", nowhere), 404)


def test_status__bad_user_status__400(api, rule_segment):
    body = status_body(rule_segment, CustomerFactory(), "promote")

    assert_error(api.post("/api/v1/segments/status", body), 400, field="user_status")


def test_members__filters__matching_rows_newest_first(api, rule_segment, actor):
    a, b, tester, blocked = CustomerFactory.create_batch(4)
    segment_members_add(segment=rule_segment, customers=[a, b], actor=actor)
    segment_test_user_add(segment=rule_segment, customer=tester, actor=actor)
    segment_override_set(
        segment=rule_segment, customer=blocked, user_status="block", actor=actor
    )

    def ids(query=""):
        response = api.get(url(rule_segment, f"members{query}"))
        assert response.status_code == 200, response.json()
        return [row["customer_id"] for row in response.json()["results"]]

    # a and b were added in one statement, in no particular order
    pair = {a.external_id, b.external_id}
    everyone = ids()
    assert everyone[0] == tester.external_id and set(everyone[1:]) == pair
    assert ids("?is_test=true") == [tester.external_id]
    assert ids("?is_test=false&source=api") == []
    assert set(ids("?source=admin&is_test=false")) == pair
    assert ids("?override=block") == [blocked.external_id]


def test_members__pages__cursor_walks_every_member_once(api, static_segment, actor):
    customers = CustomerFactory.create_batch(5)
    segment_members_add(segment=static_segment, customers=customers, actor=actor)

    seen, page = [], url(static_segment, "members?limit=2")
    while page:
        body = api.get(page).json()
        seen += [row["internal_id"] for row in body["results"]]
        page = body["next"]

    assert sorted(seen) == sorted(c.pk for c in customers)
    assert len(seen) == 5


def test_members__bad_filter__400(api, static_segment):
    response = api.get(url(static_segment, "members?source=carrier-pigeon"))

    assert_error(response, 400, field="source")


def test_member_detail__member_and_not__answered(api, static_segment, actor):
    member, other = CustomerFactory.create_batch(2)
    segment_members_add(segment=static_segment, customers=[member], actor=actor)

    yes = api.get(url(static_segment, f"members/{member.external_id}")).json()
    no = api.get(url(static_segment, f"members/{other.pk}?id_type=internal_id"))

    assert (yes["member"], yes["source"], yes["override"]) == (True, "admin", "none")
    assert yes["joined_at"]
    assert no.json() == {
        "member": False,
        "source": None,
        "override": "none",
        "joined_at": None,
    }


def test_member_detail__unknown_customer__404(api, static_segment):
    response = api.get(url(static_segment, "members/ghost"))

    assert "ghost" in assert_error(response, 404)


def test_stats__joins_leaves_totals__test_users_left_out(api, static_segment, actor):
    # Given two members who joined 3 days ago, one who left yesterday, a test user
    a, b, tester = CustomerFactory.create_batch(3)
    now = timezone.now()
    segment_members_add(
        segment=static_segment,
        customers=[a, b],
        actor=actor,
        occurred_at=now - timedelta(days=3),
    )
    segment_members_remove(
        segment=static_segment,
        customers=[b],
        actor=actor,
        occurred_at=now - timedelta(days=1),
    )
    segment_test_user_add(segment=static_segment, customer=tester, actor=actor)

    body = api.get(url(static_segment, "stats")).json()

    assert (body["total"], body["new_this_week"], body["new_this_month"]) == (1, 1, 1)
    daily = body["daily"]
    assert len(daily) == 90
    assert [(d["joins"], d["leaves"], d["total"]) for d in daily[-5:]] == [
        (0, 0, 0),
        (2, 0, 2),
        (0, 0, 2),
        (0, 1, 1),
        (0, 0, 1),
    ]
    assert daily[-1]["date"] == timezone.localdate().isoformat()


def test_stats__unknown_segment__404(api, db):
    assert_error(api.get("/api/v1/segments/999/stats"), 404)


def test_history__changes__newest_first_with_actor(api, static_segment, actor):
    customer = CustomerFactory()
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    api.post(url(static_segment, "remove_customers"), {"ids": [customer.external_id]})

    rows = api.get(url(static_segment, "history")).json()["results"]

    assert [(r["action"], r["actor"]) for r in rows] == [
        ("left", "api: CRM sync"),
        ("entered", "admin: alice"),
    ]
    assert rows[0]["customer_id"] == customer.external_id


def test_history__unknown_segment__404(api, db):
    assert_error(api.get("/api/v1/segments/999/history"), 404)
