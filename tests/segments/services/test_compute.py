from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Enrollment
from campaigns.services import campaign_create
from segments.models import Membership, MembershipChange, Segment
from segments.services import (
    Actor,
    compute,
    customer_upsert,
    event_record,
    segment_create,
    segment_override_set,
    segment_test_user_add,
    segment_update,
)
from segments.services.compute import (
    segment_compute_run,
    segment_recompute,
    segments_recompute_locked,
    segments_refresh_due,
)
from tests.factories import CustomerFactory

State = Segment.ComputeState


def members(segment):
    return set(
        Membership.objects.filter(segment=segment)
        .members()
        .values_list("customer__external_id", flat=True)
    )


def history(segment):
    return sorted(
        MembershipChange.objects.filter(segment=segment).values_list(
            "customer__external_id", "action", "source", "actor_type"
        )
    )


def rule(field, operator, value=None):
    return {"conditions": [{"field": field, "operator": operator, "value": value}]}


def rule_segment_on(name, rules, actor):
    return segment_create(name=name, type=Segment.Type.RULE, rules=rules, actor=actor)


def test_recompute__full__matching_enter_others_leave_with_history(rule_segment):
    # Given two Facebook customers, one Google customer who is a stale member
    CustomerFactory(external_id="fb-1")
    CustomerFactory(external_id="fb-2")
    google = CustomerFactory(external_id="g-1", attributes={"channel": "Google"})
    Membership.objects.create(segment=rule_segment, customer=google, source="rule")

    # When the segment is recomputed
    result = segment_recompute(segment=rule_segment)

    # Then the members are exactly who the rules match, each change in history
    assert (result.entered, result.left) == (2, 1)
    assert members(rule_segment) == {"fb-1", "fb-2"}
    assert history(rule_segment) == [
        ("fb-1", "entered", "rule", "rule"),
        ("fb-2", "entered", "rule", "rule"),
        ("g-1", "left", "rule", "rule"),
    ]
    # And a second run has nothing to do
    again = segment_recompute(segment=rule_segment)
    assert (again.entered, again.left) == (0, 0)
    assert len(history(rule_segment)) == 3


def test_recompute__overrides__add_stays_in_block_stays_out(rule_segment, actor):
    # Given a Google customer pinned in, a Facebook customer blocked, a test user
    pinned = CustomerFactory(external_id="pinned", attributes={"channel": "Google"})
    blocked = CustomerFactory(external_id="blocked")
    tester = CustomerFactory(external_id="tester", attributes={})
    segment_override_set(
        segment=rule_segment, customer=pinned, user_status="add", actor=actor
    )
    segment_override_set(
        segment=rule_segment, customer=blocked, user_status="block", actor=actor
    )
    segment_test_user_add(segment=rule_segment, customer=tester, actor=actor)

    # When the rules are applied
    segment_recompute(segment=rule_segment)

    # Then the overrides win over the rules
    assert members(rule_segment) == {"pinned", "tester"}
    assert Membership.objects.get(customer=blocked).override == "block"


def test_recompute__live_campaign__entrants_enrolled(rule_segment, actor):
    # Given a live campaign whose audience is the rule segment
    campaign = campaign_create(
        name="Spring", status="active", segments=[rule_segment], actor=actor
    )
    CustomerFactory(external_id="fb-1")

    # When the segment is computed
    segment_recompute(segment=rule_segment)

    # Then the new member is enrolled by the segment
    enrollment = Enrollment.objects.get(campaign=campaign)
    assert (enrollment.customer.external_id, enrollment.source) == ("fb-1", "segment")
    assert enrollment.source_segment == rule_segment


def test_recompute__nested_groups_and_behaviour__matches_the_tree(actor):
    # Given customers with plans, countries and purchases
    now = timezone.now()
    rich = CustomerFactory(external_id="rich", attributes={"plan": "pro", "n": 3})
    CustomerFactory(external_id="poor", attributes={"plan": "pro", "n": 1})
    CustomerFactory(external_id="free", attributes={"plan": "free", "n": 9})
    for amount in (60, 70):
        rich.events.create(
            name="purchase", properties={"amount": amount}, timestamp=now
        )
    segment = rule_segment_on(
        "Pro buyers",
        {
            "match": "all",
            "conditions": [
                {"field": "attributes.plan", "operator": "equals", "value": "PRO"}
            ],
            "rules": [
                {
                    "match": "any",
                    "conditions": [
                        {"field": "attributes.n", "operator": "gte", "value": 5},
                        {
                            "event": "purchase",
                            "operator": "at_least",
                            "value": 2,
                            "within_days": 30,
                            "where": rule("event.amount", "gt", 50),
                        },
                    ],
                }
            ],
        },
        actor,
    )

    segment_recompute(segment=segment)

    assert members(segment) == {"rich"}


def test_upsert__watched_attribute_changes__only_that_segment_looks_again(
    rule_segment, actor
):
    # Given a segment on "plan" that has never been computed
    pro = rule_segment_on("Pro", rule("attributes.plan", "equals", "pro"), actor)
    customer = CustomerFactory(external_id="c1", attributes={"plan": "pro"})

    # When only the channel changes, the Facebook segment looks again; Pro does not
    customer_upsert(external_id="c1", attributes={"channel": "Facebook"}, actor=actor)
    assert members(rule_segment) == {"c1"}
    assert members(pro) == set()

    # When the plan changes, Pro looks again
    customer_upsert(external_id="c1", attributes={"plan": "PRO"}, actor=actor)
    assert members(pro) == {"c1"}

    # And a change that stops matching takes the customer out
    customer_upsert(external_id="c1", attributes={"channel": "Google"}, actor=actor)
    assert members(rule_segment) == set()
    assert customer.memberships.count() == 1


def test_upsert__new_customer__every_rule_segment_evaluated(rule_segment, actor):
    no_email = rule_segment_on("No email", rule("email", "is_not_set"), actor)

    customer_upsert(external_id="new", attributes={"channel": "facebook"}, actor=actor)

    assert members(rule_segment) == {"new"}
    assert members(no_email) == {"new"}


def test_event__behaviour_segment__customer_enters_on_the_nth_event(actor, customer):
    segment = rule_segment_on(
        "Buyers",
        {"conditions": [{"event": "purchase", "operator": "at_least", "value": 2}]},
        actor,
    )

    event_record(customer=customer, name="purchase")
    assert members(segment) == set()
    event_record(customer=customer, name="purchase")
    assert members(segment) == {customer.external_id}


def test_event__last_seen_rule__follows_the_event(actor, customer):
    segment = rule_segment_on("Seen", rule("last_seen_at", "is_set"), actor)

    event_record(customer=customer, name="page_view")

    assert members(segment) == {customer.external_id}


def test_event__trigger_segment__enters_when_conditions_hold(actor):
    segment = segment_create(
        name="Big spenders",
        type=Segment.Type.EVENT,
        trigger_event="purchase",
        rules=rule("event.amount", "gt", 50),
        actor=actor,
    )
    small = CustomerFactory(external_id="small")
    big = CustomerFactory(external_id="big")

    event_record(customer=small, name="purchase", properties={"amount": 10})
    event_record(customer=big, name="purchase", properties={"amount": 80})
    event_record(customer=small, name="refund", properties={"amount": 80})

    assert members(segment) == {"big"}
    change = MembershipChange.objects.get(segment=segment)
    assert (change.source, change.actor_label) == ("event", "event: purchase")


def test_segment_condition__member_enters_dependency__follows(rule_segment, actor):
    # Given a segment of the Facebook segment's members on the pro plan
    pro_facebook = rule_segment_on(
        "Pro Facebook",
        {
            "conditions": [
                {"segment": rule_segment.pk, "operator": "in"},
                {"field": "attributes.plan", "operator": "equals", "value": "pro"},
            ]
        },
        actor,
    )

    # When a pro customer arrives from Facebook
    customer_upsert(
        external_id="c1", attributes={"channel": "Facebook", "plan": "pro"}, actor=actor
    )

    # Then they are in both, and leave both when the channel changes
    assert members(pro_facebook) == {"c1"}
    customer_upsert(external_id="c1", attributes={"channel": "TV"}, actor=actor)
    assert members(rule_segment) == members(pro_facebook) == set()


def test_segment_condition__cycle__refused(rule_segment, actor):
    inner = rule_segment_on(
        "Inner", {"conditions": [{"segment": rule_segment.pk, "operator": "in"}]}, actor
    )

    with pytest.raises(ValidationError) as error:
        segment_update(
            segment=rule_segment,
            rules={"conditions": [{"segment": inner.pk, "operator": "not_in"}]},
            actor=actor,
        )

    assert "depend on itself" in str(error.value.message_dict["rules"])
    assert rule_segment.rules.get().conditions.get().field == "attributes.channel"


def test_segment_condition__unknown_segment__refused(actor):
    with pytest.raises(ValidationError) as error:
        rule_segment_on(
            "X", {"conditions": [{"segment": 999, "operator": "in"}]}, actor
        )

    assert error.value.message_dict == {"rules": ["No segment has id 999."]}


def test_rules_edit__recompute_runs_after_commit(
    rule_segment, actor, django_capture_on_commit_callbacks
):
    CustomerFactory(external_id="g", attributes={"channel": "Google"})

    with django_capture_on_commit_callbacks(execute=True):
        segment_update(
            segment=rule_segment,
            rules=rule("attributes.channel", "equals", "google"),
            actor=actor,
        )
        rule_segment.refresh_from_db()
        assert rule_segment.compute_state == State.QUEUED

    rule_segment.refresh_from_db()
    assert rule_segment.compute_state == State.IDLE
    assert rule_segment.computed_at is not None
    assert members(rule_segment) == {"g"}


def test_compute_run__failure__visible_then_retried(rule_segment, monkeypatch):
    # Given a computation that fails once
    CustomerFactory(external_id="fb")
    real = compute.segment_recompute

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(compute, "segment_recompute", broken)
    assert segment_compute_run(segment_id=rule_segment.pk) is None
    rule_segment.refresh_from_db()
    assert rule_segment.compute_state == State.FAILED
    assert rule_segment.compute_error == "RuntimeError: database went away"
    assert rule_segment.compute_attempts == 1

    # When the periodic job runs with the fault gone
    monkeypatch.setattr(compute, "segment_recompute", real)
    assert segments_refresh_due() == [rule_segment.pk]

    # Then the segment is computed and the failure cleared
    rule_segment.refresh_from_db()
    assert (rule_segment.compute_state, rule_segment.compute_error) == (State.IDLE, "")
    assert members(rule_segment) == {"fb"}


def test_refresh_due__only_segments_that_need_it(rule_segment, actor):
    # Given a time-relative segment, an up-to-date one and a lost computation
    recent = rule_segment_on("Recent", rule("created_at", "within_last", "7d"), actor)
    lost = rule_segment_on("Lost", rule("attributes.plan", "is_set"), actor)
    long_ago = timezone.now() - timedelta(hours=2)
    Segment.objects.filter(pk=lost.pk).update(
        compute_state=State.RUNNING, compute_started_at=long_ago
    )
    assert recent.time_relative and not rule_segment.time_relative

    refreshed = segments_refresh_due()

    assert refreshed == [recent.pk, lost.pk]
    rule_segment.refresh_from_db()
    assert rule_segment.computed_at is None


def test_refresh_segments_command__all__reports_each(rule_segment, capsys):
    CustomerFactory(external_id="fb")

    call_command("refresh_segments", "--all")

    assert "[1/1] Facebook users: +1 -0" in capsys.readouterr().out
    assert members(rule_segment) == {"fb"}


def test_actor_rule__history_names_the_segment(rule_segment):
    CustomerFactory()
    segment_recompute(segment=rule_segment)

    change = MembershipChange.objects.get()
    assert change.actor_label == Actor.rule(rule_segment).label
    assert change.description == "Entered: the rules match"


def test_incremental__many_changes__same_members_as_a_full_recompute(actor):
    # Given segments reading attributes, events and another segment
    pro = rule_segment_on("Pro", rule("attributes.plan", "in", ["pro", "team"]), actor)
    buyers = rule_segment_on(
        "Pro buyers",
        {
            "conditions": [
                {"segment": pro.pk, "operator": "in"},
                {"event": "purchase", "operator": "at_least", "value": 2},
            ]
        },
        actor,
    )
    plans = ["free", "pro", "team", None, "PRO"]

    # When customers arrive, change and buy, each write updating only them
    for i in range(15):
        result = customer_upsert(
            external_id=f"c{i}", attributes={"plan": plans[i % 5]}, actor=actor
        )
        for _ in range(i % 3):
            event_record(customer=result.customer, name="purchase")
        if i % 4 == 0:
            customer_upsert(
                external_id=f"c{i}",
                attributes={"plan": plans[(i + 1) % 5]},
                actor=actor,
            )

    # Then a full recompute finds nothing to change
    before = (members(pro), members(buyers))
    assert before[0] and before[1]
    for segment in (pro, buyers):
        result = segment_recompute(segment=segment)
        assert (result.entered, result.left) == (0, 0), segment.name
    assert (members(pro), members(buyers)) == before


def test_archive_then_restore__recompute_requested_only_on_restore(
    rule_segment, actor, django_capture_on_commit_callbacks
):
    CustomerFactory(external_id="fb")
    segment_update(segment=rule_segment, archived=True, actor=actor)

    with django_capture_on_commit_callbacks() as unchanged:
        segment_update(segment=rule_segment, archived=True, name="FB", actor=actor)
    with django_capture_on_commit_callbacks(execute=True) as restored:
        segment_update(segment=rule_segment, archived=False, actor=actor)

    assert (len(unchanged), len(restored)) == (0, 1)
    assert members(rule_segment) == {"fb"}


def test_compute_run__members_changed__segments_reading_it_follow(
    rule_segment, actor, django_capture_on_commit_callbacks
):
    # Given a segment of the Facebook segment's members, both computed and empty
    follower = rule_segment_on(
        "Follower",
        {"conditions": [{"segment": rule_segment.pk, "operator": "in"}]},
        actor,
    )
    CustomerFactory(external_id="fb")

    # When the Facebook segment is computed in full
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        segment_compute_run(segment_id=rule_segment.pk)

    # Then the follower is recomputed after it
    assert len(callbacks) == 1
    assert members(follower) == {"fb"}
    follower.refresh_from_db()
    assert follower.compute_state == State.IDLE


@pytest.mark.django_db(transaction=True)
def test_recompute_locked__outside_a_transaction__refused(rule_segment, customer):
    with pytest.raises(RuntimeError, match="inside a transaction"):
        segments_recompute_locked(
            specs={rule_segment.pk: None}, customer_ids={rule_segment.pk: [customer.pk]}
        )
