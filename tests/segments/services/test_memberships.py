from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from segments.models import Membership, MembershipChange
from segments.services import (
    Actor,
    segment_members_add,
    segment_members_remove,
    segment_override_set,
    segment_test_user_add,
    segment_test_user_remove,
    segment_update,
)
from segments.services.memberships import segments_members_add
from tests.factories import CustomerFactory

Action = MembershipChange.Action
Override = Membership.Override


def history(segment):
    return list(
        MembershipChange.objects.filter(segment=segment)
        .order_by("id")
        .values_list("action", "was_member", "is_member")
    )


def test_members_add__new_customers__rows_history_and_result(static_segment, actor):
    # Given two customers
    a, b = CustomerFactory.create_batch(2)

    # When both are added, one of them twice in the same call
    result = segment_members_add(
        segment=static_segment,
        customers=[a, b, a],
        actor=actor,
        reference_id="crm-42",
        metadata={"campaign": "spring"},
    )

    # Then each is added once, with its source and history
    assert result.added == [a, b]
    assert result.already_members == result.blocked == []
    rows = Membership.objects.filter(segment=static_segment).order_by("customer_id")
    assert [(m.customer, m.source, m.override) for m in rows] == [
        (a, "admin", "none"),
        (b, "admin", "none"),
    ]
    assert history(static_segment) == [("entered", False, True)] * 2
    change = MembershipChange.objects.filter(customer=a).get()
    assert change.actor_user == actor.user
    assert change.actor_label == "admin: alice"
    assert change.reference_id == "crm-42"
    assert change.metadata == {"campaign": "spring"}


def test_members_add__already_member__no_op_without_history(static_segment, actor):
    customer = CustomerFactory()
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    result = segment_members_add(
        segment=static_segment, customers=[customer], actor=actor
    )

    assert result.added == []
    assert result.already_members == [customer]
    assert Membership.objects.filter(segment=static_segment).count() == 1
    assert len(history(static_segment)) == 1


def test_members_add__blocked_customer__stays_out_and_reported(rule_segment, actor):
    customer = CustomerFactory()
    segment_override_set(
        segment=rule_segment, customer=customer, user_status="block", actor=actor
    )

    result = segment_members_add(
        segment=rule_segment, customers=[customer], actor=actor
    )

    assert result.blocked == [customer]
    assert not Membership.objects.members().filter(segment=rule_segment).exists()
    assert history(rule_segment) == [("blocked", False, False)]


def test_members_add__rule_segment__pins_with_add_override(rule_segment, customer):
    api_actor = Actor.system("sync")

    segment_members_add(segment=rule_segment, customers=[customer], actor=api_actor)

    membership = Membership.objects.get(segment=rule_segment, customer=customer)
    assert membership.override == Override.ADD


def test_members_add__archived_segment__refused_and_nothing_written(
    static_segment, actor, customer
):
    segment_update(segment=static_segment, actor=actor, archived=True)

    with pytest.raises(ValidationError, match="archived"):
        segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    assert not Membership.objects.exists()
    assert not MembershipChange.objects.exists()


def test_members_remove__members_and_strangers__removes_and_reports(
    static_segment, actor
):
    member, stranger = CustomerFactory.create_batch(2)
    segment_members_add(segment=static_segment, customers=[member], actor=actor)

    result = segment_members_remove(
        segment=static_segment, customers=[member, stranger], actor=actor
    )

    assert result.removed == [member]
    assert result.not_members == [stranger]
    assert not Membership.objects.exists()
    assert history(static_segment) == [("entered", False, True), ("left", True, False)]


def test_members_remove__blocked_customer__block_kept(rule_segment, actor, customer):
    segment_override_set(
        segment=rule_segment, customer=customer, user_status="block", actor=actor
    )

    result = segment_members_remove(
        segment=rule_segment, customers=[customer], actor=actor
    )

    assert result.not_members == [customer]
    assert Membership.objects.get().override == Override.BLOCK
    assert len(history(rule_segment)) == 1


# Village semantics: add wins over the rules, block keeps them out, reset clears the
# override and leaves membership as it is.


def test_override_add__not_member__enters_pinned(rule_segment, actor, customer):
    state = segment_override_set(
        segment=rule_segment,
        customer=customer,
        user_status="add",
        actor=actor,
        description="Developer test account",
    )

    assert state.is_member and state.changed
    assert state.override == Override.ADD
    assert history(rule_segment) == [("entered", False, True)]
    assert MembershipChange.objects.get().description == "Developer test account"


def test_override_add__member_without_override__pins_without_reentering(
    static_segment, actor, customer
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    state = segment_override_set(
        segment=static_segment, customer=customer, user_status="add", actor=actor
    )

    assert state.is_member and state.override == Override.ADD
    assert history(static_segment) == [
        ("entered", False, True),
        ("override_added", True, True),
    ]


def test_override_add__twice__second_is_no_op(rule_segment, actor, customer):
    segment_override_set(
        segment=rule_segment, customer=customer, user_status="add", actor=actor
    )

    state = segment_override_set(
        segment=rule_segment, customer=customer, user_status="add", actor=actor
    )

    assert not state.changed
    assert len(history(rule_segment)) == 1


def test_override_block__member__leaves_and_stays_blocked(
    rule_segment, actor, customer
):
    segment_members_add(segment=rule_segment, customers=[customer], actor=actor)

    state = segment_override_set(
        segment=rule_segment, customer=customer, user_status="block", actor=actor
    )

    assert not state.is_member and state.override == Override.BLOCK
    assert history(rule_segment)[-1] == ("blocked", True, False)
    # The block outlives a later plain add
    segment_members_add(segment=rule_segment, customers=[customer], actor=actor)
    assert not Membership.objects.members().exists()


def test_override_add__blocked__replaces_block_and_enters(
    rule_segment, actor, customer
):
    segment_override_set(
        segment=rule_segment, customer=customer, user_status="block", actor=actor
    )

    state = segment_override_set(
        segment=rule_segment, customer=customer, user_status="add", actor=actor
    )

    assert state.is_member and state.override == Override.ADD
    assert history(rule_segment) == [
        ("blocked", False, False),
        ("entered", False, True),
    ]


def test_override_reset__blocked_not_matching__unblocked_but_not_member(
    rule_segment, actor
):
    customer = CustomerFactory(attributes={"channel": "Email"})
    segment_override_set(
        segment=rule_segment, customer=customer, user_status="block", actor=actor
    )

    state = segment_override_set(
        segment=rule_segment, customer=customer, user_status="reset", actor=actor
    )

    assert state.changed and not state.is_member
    assert state.override == Override.NONE
    assert not Membership.objects.exists()
    assert history(rule_segment)[-1] == ("override_reset", False, False)


def test_override_reset__blocked_matching_rules__rules_let_them_in_at_once(
    rule_segment, actor, customer
):
    # Given a blocked customer whom the rules match
    segment_override_set(
        segment=rule_segment, customer=customer, user_status="block", actor=actor
    )

    # When the block is reset
    state = segment_override_set(
        segment=rule_segment, customer=customer, user_status="reset", actor=actor
    )

    # Then the rules decide in the same transaction: they are a member again
    assert state.changed and state.is_member
    assert state.override == Override.NONE
    assert Membership.objects.get().source == Membership.Source.RULE
    assert history(rule_segment)[-2:] == [
        ("override_reset", False, False),
        ("entered", False, True),
    ]


def test_override_reset__added_not_matching__rules_take_them_out_at_once(
    rule_segment, actor
):
    # Given a customer the rules do not match, pinned with an add override
    customer = CustomerFactory(attributes={"channel": "Email"})
    segment_override_set(
        segment=rule_segment, customer=customer, user_status="add", actor=actor
    )

    # When the override is reset
    state = segment_override_set(
        segment=rule_segment, customer=customer, user_status="reset", actor=actor
    )

    # Then they leave, and history says why in order
    assert state.changed and not state.is_member
    assert not Membership.objects.exists()
    assert history(rule_segment)[-2:] == [
        ("override_reset", True, True),
        ("left", True, False),
    ]


def test_override_reset__added__stays_member_without_override(
    rule_segment, actor, customer
):
    segment_override_set(
        segment=rule_segment, customer=customer, user_status="add", actor=actor
    )

    state = segment_override_set(
        segment=rule_segment, customer=customer, user_status="reset", actor=actor
    )

    assert state.is_member and state.override == Override.NONE
    assert Membership.objects.get().override == Override.NONE
    assert history(rule_segment)[-1] == ("override_reset", True, True)


def test_override_reset__no_override__no_op(static_segment, actor, customer):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    state = segment_override_set(
        segment=static_segment, customer=customer, user_status="reset", actor=actor
    )

    assert not state.changed and state.is_member
    assert len(history(static_segment)) == 1


def test_override_set__unknown_status__error_names_field(rule_segment, actor, customer):
    with pytest.raises(ValidationError) as error:
        segment_override_set(
            segment=rule_segment, customer=customer, user_status="pause", actor=actor
        )

    assert "user_status" in error.value.message_dict
    assert not MembershipChange.objects.exists()


def test_override_set__occurred_at_given__history_keeps_callers_time(
    rule_segment, actor, customer
):
    from datetime import UTC, datetime

    when = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    segment_override_set(
        segment=rule_segment,
        customer=customer,
        user_status="add",
        actor=actor,
        occurred_at=when,
    )

    change = MembershipChange.objects.get()
    assert change.occurred_at == when
    assert change.recorded_at > when


def test_test_user_add__then_remove__flagged_member_then_gone(rule_segment, actor):
    customer = CustomerFactory(attributes={"channel": "Email"})
    state = segment_test_user_add(segment=rule_segment, customer=customer, actor=actor)

    assert state.is_member
    membership = Membership.objects.get()
    assert (membership.is_test, membership.source, membership.override) == (
        True,
        "test",
        "add",
    )
    assert not Membership.objects.counted().exists()

    state = segment_test_user_remove(
        segment=rule_segment, customer=customer, actor=actor
    )

    assert state.changed and not state.is_member
    assert not Membership.objects.exists()
    assert history(rule_segment) == [("entered", False, True), ("left", True, False)]


def test_test_user_remove__rules_match_them__member_by_the_rules_at_once(
    rule_segment, actor, customer
):
    segment_test_user_add(segment=rule_segment, customer=customer, actor=actor)

    state = segment_test_user_remove(
        segment=rule_segment, customer=customer, actor=actor
    )

    assert state.is_member
    membership = Membership.objects.get()
    assert (membership.is_test, membership.source) == (False, "rule")
    assert history(rule_segment)[-2:] == [
        ("left", True, False),
        ("entered", False, True),
    ]


def test_members_remove__rule_segment_pinned_matching__rules_take_them_back(
    rule_segment, actor, customer
):
    # Given a customer the rules match, pinned by a plain add
    segment_override_set(
        segment=rule_segment, customer=customer, user_status="add", actor=actor
    )

    # When they are removed
    segment_members_remove(segment=rule_segment, customers=[customer], actor=actor)

    # Then the pin is gone and the rules keep them in, in the same transaction
    membership = Membership.objects.get()
    assert (membership.override, membership.source) == ("none", "rule")
    assert history(rule_segment)[-2:] == [
        ("left", True, False),
        ("entered", False, True),
    ]


def test_test_user_remove__real_member__left_alone(static_segment, actor, customer):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    state = segment_test_user_remove(
        segment=static_segment, customer=customer, actor=actor
    )

    assert not state.changed
    assert Membership.objects.filter(customer=customer).exists()


def test_members_add__rule_segment_by_its_rules__not_pinned(rule_segment, customer):
    segment_members_add(
        segment=rule_segment, customers=[customer], actor=Actor.rule(rule_segment)
    )

    membership = Membership.objects.get(segment=rule_segment, customer=customer)
    assert (membership.source, membership.override) == ("rule", "none")
    assert MembershipChange.objects.get().actor_label == "rule: Facebook users"


def test_members_remove__mixed_sources__each_history_row_keeps_its_own(
    rule_segment, actor
):
    pinned, by_rule = CustomerFactory.create_batch(2)
    segment_members_add(segment=rule_segment, customers=[pinned], actor=actor)
    segment_members_add(
        segment=rule_segment, customers=[by_rule], actor=Actor.rule(rule_segment)
    )

    segment_members_remove(
        segment=rule_segment, customers=[pinned, by_rule], actor=actor
    )

    left = MembershipChange.objects.filter(action=Action.LEFT)
    assert set(left.values_list("customer", "source", "override")) == {
        (pinned.pk, "admin", "add"),
        (by_rule.pk, "rule", "none"),
    }
    assert {c.actor_label for c in left} == {"admin: alice"}


def at(hour):
    return datetime(2025, 5, 1, hour, tzinfo=UTC)


def override_at(segment, customer, user_status, actor, occurred_at, **kwargs):
    return segment_override_set(
        segment=segment,
        customer=customer,
        user_status=user_status,
        actor=actor,
        occurred_at=occurred_at,
        **kwargs,
    )


def test_override_set__older_than_last_change__recorded_ignored_state_kept(
    rule_segment, actor
):
    # Given a customer blocked at 12:00
    customer = CustomerFactory()
    override_at(rule_segment, customer, "block", actor, at(12))

    # When an "add" that happened at 11:00 arrives late
    state = override_at(
        rule_segment, customer, "add", actor, at(11), description="from the CRM"
    )

    # Then the block stands, and history keeps the late change as ignored
    assert (state.changed, state.stale, state.is_member) == (False, True, False)
    row = Membership.objects.get(segment=rule_segment, customer=customer)
    assert row.override == Override.BLOCK
    late = MembershipChange.objects.filter(customer=customer).order_by("id").last()
    assert (late.action, late.was_member, late.is_member) == ("ignored", False, False)
    assert late.occurred_at == at(11)
    assert '"add"' in late.description and "from the CRM" in late.description


def test_override_set__older_without_membership_row__recorded_ignored(
    rule_segment, actor
):
    # Given a block then a reset of a customer the rules do not match: no row remains
    customer = CustomerFactory(attributes={"channel": "Email"})
    for status, hour in (("block", 10), ("reset", 12)):
        override_at(rule_segment, customer, status, actor, at(hour))

    state = override_at(rule_segment, customer, "add", actor, at(11))

    assert (state.membership, state.stale) == (None, True)
    assert not Membership.objects.filter(customer=customer).exists()
    assert history(rule_segment)[-1] == ("ignored", False, False)


def test_override_set__newer_or_equal_timestamp__applied(rule_segment, actor):
    customer = CustomerFactory()
    override_at(rule_segment, customer, "block", actor, at(12))

    state = override_at(rule_segment, customer, "add", actor, at(12))

    assert (state.changed, state.stale, state.is_member) == (True, False, True)


def test_override_set__ignored_change__not_counted_as_newer(rule_segment, actor):
    # Given a late change ignored at 09:00 after one applied at 12:00
    customer = CustomerFactory()
    for status, hour in (("block", 12), ("add", 9)):
        override_at(rule_segment, customer, status, actor, at(hour))

    # When a change at 13:00 arrives, then it applies
    state = override_at(rule_segment, customer, "reset", actor, at(13))

    assert state.changed and not state.stale


def test_segments_members_add__two_segments__each_result_and_one_history_row_per_entry(
    static_segment, rule_segment, actor
):
    # Given a customer blocked in the rule segment and one already in the list
    a, b, c = CustomerFactory.create_batch(3)
    segment_override_set(
        segment=rule_segment, customer=a, user_status="block", actor=actor
    )
    segment_members_add(segment=static_segment, customers=[b], actor=actor)

    # When both segments take the same customers in one call
    results = segments_members_add(
        entries={static_segment: [a, b, c], rule_segment: [a, b, c]},
        actor=actor,
        reference_id="sync-7",
    )

    # Then each segment reports its own outcome, as segment_members_add would
    assert results[static_segment.pk].added == [a, c]
    assert results[static_segment.pk].already_members == [b]
    assert results[rule_segment.pk].added == [b, c]
    assert results[rule_segment.pk].blocked == [a]
    entered = MembershipChange.objects.filter(
        action=Action.ENTERED, reference_id="sync-7"
    )
    assert sorted(entered.values_list("segment_id", "customer_id")) == sorted(
        [
            (static_segment.pk, a.pk),
            (static_segment.pk, c.pk),
            (rule_segment.pk, b.pk),
            (rule_segment.pk, c.pk),
        ]
    )
    pinned = Membership.objects.get(segment=rule_segment, customer=c)
    assert pinned.override == Override.ADD
