import json
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from campaigns.services import campaign_create
from segments.models import (
    ApiKey,
    Customer,
    Event,
    Membership,
    MembershipChange,
    Segment,
    SegmentRule,
)
from segments.rules import rule_to_dict
from segments.selectors import segment_rule_spec
from segments.services import (
    api_key_authenticate,
    api_key_create,
    segment_create,
    segment_members_add,
    segment_override_set,
    segment_test_user_add,
    segment_update,
)
from tests.admin_support import (
    attribute_rows,
    check_changelist_scales,
    errors,
    messages,
    post_action,
)
from tests.factories import CustomerFactory, EventFactory

PRO_PLAN = {
    "match": "all",
    "conditions": [{"field": "attributes.plan", "operator": "equals", "value": "pro"}],
    "rules": [],
}
MODELS = (
    "customer",
    "event",
    "segment",
    "condition",
    "membership",
    "membershipchange",
    "apikey",
)


def url(name, *args):
    return reverse(f"admin:segments_{name}", args=args)


def act(client, model, action, *objs):
    return post_action(client, url(f"{model}_changelist"), action, objs, post="yes")


def history(segment):
    return list(
        MembershipChange.objects.filter(segment=segment)
        .order_by("id")
        .values_list("customer__external_id", "action", "actor_label")
    )


def add_world(actor, n):
    """One of everything the admin lists, as the services and the API leave it."""
    customer, blocked = CustomerFactory.create_batch(2)
    EventFactory(customer=customer)
    segment = segment_create(name=f"Segment {n}", type="static", actor=actor)
    segment_create(name=f"Pro plan {n}", type="rule", rules=PRO_PLAN, actor=actor)
    segment_members_add(segment=segment, customers=[customer], actor=actor)
    segment_override_set(
        segment=segment, customer=blocked, user_status="block", actor=actor
    )
    segment_test_user_add(segment=segment, customer=blocked, actor=actor)
    api_key_create(name=f"Key {n}", scopes=["read"], actor=actor)


@pytest.mark.parametrize("model", MODELS)
def test_changelist__more_rows__same_queries_and_pages_load(admin_client, actor, model):
    # Each set of rows: one of everything
    check_changelist_scales(admin_client, url, model, lambda n: add_world(actor, n))


@pytest.mark.parametrize("model", ["customer", "segment", "membership", "apikey"])
def test_add_page__service_backed_model__loads(admin_client, model):
    assert admin_client.get(url(f"{model}_add")).status_code == 200


def test_condition_changelist__search_field__conditions_of_that_field(
    admin_client, actor
):
    segment_create(name="Pro plan", type="rule", rules=PRO_PLAN, actor=actor)

    response = admin_client.get(url("condition_changelist"), {"q": "attributes.plan"})
    missing = admin_client.get(url("condition_changelist"), {"q": "attributes.city"})

    rows = response.context["cl"].result_list
    assert [(c.rule.segment.name, c.operator, c.value) for c in rows] == [
        ("Pro plan", "equals", "pro")
    ]
    assert not missing.context["cl"].result_list
    assert admin_client.get(url("condition_add")).status_code == 403


# Customers


def profile(customer, **changes):
    fields = ("email", "phone", "first_name", "last_name")
    return {**{f: getattr(customer, f) for f in fields}, **changes}


def test_customer_add__new_id__created_by_upsert(admin_client):
    response = admin_client.post(
        url("customer_add"),
        {
            "external_id": "new-1",
            "email": "Ann@Example.COM",
            **attribute_rows(("plan", "pro", "text")),
        },
    )

    assert response.status_code == 302
    customer = Customer.objects.get(external_id="new-1")
    # The service stores emails in lower case; the form alone would not.
    assert customer.email == "ann@example.com"
    assert customer.attributes == {"plan": "pro"}


def test_customer_add__existing_id__error_and_customer_unchanged(
    admin_client, customer
):
    response = admin_client.post(
        url("customer_add"),
        {
            "external_id": customer.external_id,
            "email": "other@example.com",
            **attribute_rows(),
        },
    )

    assert errors(response)["external_id"] == [
        "A customer with this id already exists."
    ]
    customer.refresh_from_db()
    assert customer.email != "other@example.com"


def test_customer_change__email_of_another_in_other_case__error_on_email(
    admin_client, customer
):
    CustomerFactory(email="taken@example.com")

    response = admin_client.post(
        url("customer_change", customer.pk),
        profile(customer, email="TAKEN@example.com", **attribute_rows()),
    )

    assert errors(response)["email"] == ["Another customer already has this email."]


def test_customer_change_page__member__shows_their_segments(
    admin_client, static_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    response = admin_client.get(url("customer_change", customer.pk))

    assert "VIP list" in response.content.decode()


def test_customer_delete__with_events_and_history__erased(
    admin_client, static_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    EventFactory(customer=customer)
    # The confirmation counts rows instead of asking for delete permission on them
    # (the history is kept, anonymised: it is not among them)
    page = admin_client.get(url("customer_delete", customer.pk))
    assert "Memberships: 1" in page.content.decode()
    assert "Membership changes: " not in page.content.decode()
    assert not page.context["perms_lacking"]

    response = admin_client.post(url("customer_delete", customer.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Customer.objects.exists()
    assert not Event.objects.exists()
    assert not Membership.objects.exists()
    assert not MembershipChange.objects.filter(customer__isnull=False).exists()


def test_customer_delete_selected__two_of_three__those_erased(admin_client):
    a, b, kept = CustomerFactory.create_batch(3)
    EventFactory(customer=a)

    act(admin_client, "customer", "delete_selected", a, b)

    assert list(Customer.objects.all()) == [kept]
    assert not Event.objects.exists()


# Events


def test_event_admin__any_user__read_only(admin_client):
    event = EventFactory()

    assert admin_client.get(url("event_add")).status_code == 403
    assert admin_client.get(url("event_delete", event.pk)).status_code == 403
    page = admin_client.get(url("event_change", event.pk))
    assert page.context["has_change_permission"] is False


def test_event_changelist__search_external_id__exact_match_only(admin_client):
    mine = EventFactory(customer__external_id="cust-x")
    EventFactory(customer__external_id="cust-xy")

    response = admin_client.get(url("event_changelist"), {"q": "cust-x"})

    assert list(response.context["cl"].result_list) == [mine]


def test_event_changelist__name_filter__only_that_name(admin_client):
    purchase = EventFactory(name="purchase")
    EventFactory(name="signup")

    response = admin_client.get(url("event_changelist"), {"name": "purchase"})

    assert list(response.context["cl"].result_list) == [purchase]


# Segments


def segment_form(segment=None, **changes):
    data = {"name": "Pro plan", "type": "rule", "trigger_event": "", "description": ""}
    if segment:
        data = {f: getattr(segment, f) for f in ("name", "trigger_event")}
        data["description"] = segment.description
        data["rules"] = json.dumps(rule_to_dict(segment_rule_spec(segment=segment)))
    return {**data, **changes}


def test_segment_changelist__members_and_a_block__counts_members(
    admin_client, static_segment, rule_segment, actor
):
    a, b, c = CustomerFactory.create_batch(3)
    segment_members_add(segment=static_segment, customers=[a, b], actor=actor)
    segment_override_set(
        segment=static_segment, customer=c, user_status="block", actor=actor
    )

    response = admin_client.get(url("segment_changelist"))

    counts = {s.name: s.member_count for s in response.context["cl"].result_list}
    assert counts == {"VIP list": 2, "Facebook users": 0}


def test_segment_change_page__rule_segment__rules_as_json_and_tree(
    admin_client, rule_segment
):
    response = admin_client.get(url("segment_change", rule_segment.pk))

    rules = response.context["adminform"].form["rules"].value()
    assert json.loads(rules)["conditions"][0]["value"] == "Facebook"
    assert "<code>attributes.channel equals" in response.content.decode()


def test_segment_add__rule_segment__tree_saved_by_service(admin_client, admin_user):
    response = admin_client.post(
        url("segment_add"), segment_form(rules=json.dumps(PRO_PLAN))
    )

    assert response.status_code == 302
    segment = Segment.objects.get(name="Pro plan")
    assert segment.created_by == admin_user
    assert rule_to_dict(segment_rule_spec(segment=segment)) == PRO_PLAN


@pytest.mark.parametrize(
    "rules, message",
    [
        ("{not json", "Enter a valid JSON."),
        (
            '{"conditions": [{"field": "email", "operator": "resembles", "value": 1}]}',
            "conditions[0].operator: unknown operator 'resembles'",
        ),
        ("", "A rule segment needs at least one condition."),
    ],
)
def test_segment_add__bad_rules__error_on_rules_and_nothing_saved(
    admin_client, rules, message
):
    response = admin_client.post(url("segment_add"), segment_form(rules=rules))

    assert message in errors(response)["rules"]
    assert not Segment.objects.exists()
    assert not SegmentRule.objects.exists()


def test_segment_add__name_taken_in_other_case__error_on_name(
    admin_client, static_segment
):
    response = admin_client.post(
        url("segment_add"), segment_form(name="vip LIST", type="static")
    )

    assert errors(response)["name"] == ['A segment named "vip LIST" already exists.']


def test_segment_change__new_rules__tree_replaced(admin_client, rule_segment):
    response = admin_client.post(
        url("segment_change", rule_segment.pk),
        segment_form(rule_segment, description="Paying", rules=json.dumps(PRO_PLAN)),
    )

    assert response.status_code == 302
    rule_segment.refresh_from_db()
    assert rule_segment.description == "Paying"
    assert rule_to_dict(segment_rule_spec(segment=rule_segment)) == PRO_PLAN


def test_segment_change__deleted_meanwhile__form_error_not_500(
    admin_client, rule_segment, monkeypatch
):
    # Given a request that deletes the segment while this form is being saved
    def deleted(**kwargs):
        raise Segment.DoesNotExist(f"Segment {rule_segment.pk} no longer exists.")

    monkeypatch.setattr("segments.admin.segments.segment_update", deleted)

    response = admin_client.post(
        url("segment_change", rule_segment.pk),
        segment_form(rule_segment, description="Paying"),
    )

    assert response.status_code == 200
    assert "was deleted meanwhile" in response.content.decode()


def test_segment_change__rules_as_they_were__tree_left_alone(
    admin_client, rule_segment
):
    rule_ids = list(SegmentRule.objects.values_list("pk", flat=True))

    admin_client.post(
        url("segment_change", rule_segment.pk),
        segment_form(rule_segment, description="Renamed"),
    )

    rule_segment.refresh_from_db()
    assert rule_segment.description == "Renamed"
    assert list(SegmentRule.objects.values_list("pk", flat=True)) == rule_ids


def test_segment_change__unknown_operator__error_and_old_tree_kept(
    admin_client, rule_segment
):
    before = rule_to_dict(segment_rule_spec(segment=rule_segment))
    rules = {"conditions": [{"field": "email", "operator": "sounds_like", "value": 1}]}

    response = admin_client.post(
        url("segment_change", rule_segment.pk),
        segment_form(rule_segment, description="Lost", rules=json.dumps(rules)),
    )

    assert errors(response)["rules"] == [
        "conditions[0].operator: unknown operator 'sounds_like'"
    ]
    rule_segment.refresh_from_db()
    assert rule_segment.description == ""
    assert rule_to_dict(segment_rule_spec(segment=rule_segment)) == before


def test_segment_delete__members_and_history__all_deleted(
    admin_client, static_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    page = admin_client.get(url("segment_delete", static_segment.pk))
    assert "Memberships: 1" in page.content.decode()

    response = admin_client.post(
        url("segment_delete", static_segment.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Segment.objects.exists()
    assert not Membership.objects.exists()
    assert not MembershipChange.objects.exists()
    assert Customer.objects.get() == customer


def test_segment_delete__campaign_audience__error_shown_and_segment_kept(
    admin_client, static_segment, actor
):
    campaign_create(name="Spring", segments=[static_segment], actor=actor)

    response = admin_client.post(
        url("segment_delete", static_segment.pk), {"post": "yes"}
    )

    assert response.url == url("segment_change", static_segment.pk)
    assert messages(response) == [
        'Segment "VIP list" is the audience of "Spring"; remove it from those '
        "campaigns first, or archive it."
    ]
    assert Segment.objects.filter(pk=static_segment.pk).exists()
    assert not LogEntry.objects.exists()


def test_segment_delete_selected__one_is_an_audience__none_deleted(
    admin_client, static_segment, rule_segment, actor
):
    campaign_create(name="Spring", segments=[rule_segment], actor=actor)

    response = act(
        admin_client, "segment", "delete_selected", static_segment, rule_segment
    )

    assert Segment.objects.count() == 2
    assert not LogEntry.objects.exists()
    assert "is the audience of" in messages(response)[0]


# Memberships


def test_membership_add_page__segment_in_query__preselected(
    admin_client, static_segment
):
    response = admin_client.get(url("membership_add"), {"segment": static_segment.pk})

    assert response.context["adminform"].form["segment"].value() == str(
        static_segment.pk
    )


def test_membership_add__plain_member__row_and_history(
    admin_client, static_segment, customer
):
    response = admin_client.post(
        url("membership_add"),
        {
            "segment": static_segment.pk,
            "customer": customer.pk,
            "user_status": "member",
        },
    )

    assert response.status_code == 302
    row = Membership.objects.get()
    assert (row.source, row.override, row.is_test) == ("admin", "none", False)
    assert history(static_segment) == [
        (customer.external_id, "entered", "admin: alice")
    ]


@pytest.mark.parametrize(
    "add_as, override, is_test, action",
    [
        ("add", "add", False, "entered"),
        ("block", "block", False, "blocked"),
        ("test", "add", True, "entered"),
    ],
)
def test_membership_add__override_or_test__row_and_history(
    admin_client, static_segment, customer, add_as, override, is_test, action
):
    admin_client.post(
        url("membership_add"),
        {"segment": static_segment.pk, "customer": customer.pk, "user_status": add_as},
    )

    row = Membership.objects.get()
    assert (row.override, row.is_test) == (override, is_test)
    assert [a for _, a, _ in history(static_segment)] == [action]


def test_membership_add__blocked_customer_as_member__error_nothing_written(
    admin_client, static_segment, customer, actor
):
    segment_override_set(
        segment=static_segment, customer=customer, user_status="block", actor=actor
    )

    response = admin_client.post(
        url("membership_add"),
        {
            "segment": static_segment.pk,
            "customer": customer.pk,
            "user_status": "member",
        },
    )

    assert "is blocked from" in errors(response)["__all__"][0]
    assert Membership.objects.get().override == "block"
    assert len(history(static_segment)) == 1


def test_membership_add__already_member__error_and_no_history(
    admin_client, static_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    response = admin_client.post(
        url("membership_add"),
        {
            "segment": static_segment.pk,
            "customer": customer.pk,
            "user_status": "member",
        },
    )

    assert errors(response)["__all__"] == [
        f'{customer} is already a member of "VIP list".'
    ]
    assert len(history(static_segment)) == 1


def test_membership_add__archived_segment__error_and_nothing_written(
    admin_client, static_segment, customer, actor
):
    segment_update(segment=static_segment, archived=True, actor=actor)

    response = admin_client.post(
        url("membership_add"),
        {"segment": static_segment.pk, "customer": customer.pk, "user_status": "block"},
    )

    assert "is archived" in errors(response)["__all__"][0]
    assert not Membership.objects.exists()


def test_membership_change_page__row__read_only(admin_client, static_segment, actor):
    customer = CustomerFactory()
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    response = admin_client.get(url("membership_change", Membership.objects.get().pk))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_membership_action_block__member_and_non_member_row__both_blocked(
    admin_client, static_segment, rule_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    segment_members_add(segment=rule_segment, customers=[customer], actor=actor)

    response = act(admin_client, "membership", "block", *Membership.objects.all())

    assert set(Membership.objects.values_list("override", flat=True)) == {"block"}
    assert [a for _, a, _ in history(static_segment)] == ["entered", "blocked"]
    assert messages(response) == ["Blocked 2 of 2 selected."]


def test_membership_action_block__one_segment_archived__nothing_blocked(
    admin_client, static_segment, rule_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    segment_members_add(segment=rule_segment, customers=[customer], actor=actor)
    segment_update(segment=rule_segment, archived=True, actor=actor)

    response = act(admin_client, "membership", "block", *Membership.objects.all())

    assert "is archived" in messages(response)[0]
    assert not Membership.objects.filter(override="block").exists()
    assert MembershipChange.objects.count() == 2


def test_membership_action_reset_override__pinned_and_blocked__rules_decide(
    admin_client, rule_segment, actor
):
    pinned = CustomerFactory()
    blocked = CustomerFactory(attributes={"channel": "Email"})
    segment_members_add(segment=rule_segment, customers=[pinned], actor=actor)
    segment_override_set(
        segment=rule_segment, customer=blocked, user_status="block", actor=actor
    )

    act(admin_client, "membership", "reset_override", *Membership.objects.all())

    # The rules match the pinned member, who stays without the pin; they do not
    # match the blocked customer, whose row was only a block.
    assert Membership.objects.get().customer == pinned
    assert Membership.objects.get().override == "none"
    assert [a for _, a, _ in history(rule_segment)][-2:] == ["override_reset"] * 2


def test_membership_action_remove__member_and_blocked__only_member_removed(
    admin_client, static_segment, actor
):
    member, blocked = CustomerFactory.create_batch(2)
    segment_members_add(segment=static_segment, customers=[member], actor=actor)
    segment_override_set(
        segment=static_segment, customer=blocked, user_status="block", actor=actor
    )

    response = act(admin_client, "membership", "remove", *Membership.objects.all())

    assert Membership.objects.get().customer == blocked
    assert history(static_segment)[-1] == (member.external_id, "left", "admin: alice")
    assert messages(response)[0].startswith("Removed 1 of 2 selected.")


def test_membership_action_remove_test_users__test_and_plain__only_test_removed(
    admin_client, static_segment, actor
):
    tester, member = CustomerFactory.create_batch(2)
    segment_test_user_add(segment=static_segment, customer=tester, actor=actor)
    segment_members_add(segment=static_segment, customers=[member], actor=actor)

    response = act(
        admin_client, "membership", "remove_test_users", *Membership.objects.all()
    )

    assert Membership.objects.get().customer == member
    assert messages(response) == ["Removed 1 of 2 selected (test users only)."]
    assert history(static_segment)[-1] == (tester.external_id, "left", "admin: alice")


def test_membership_delete__member__removed_with_history(
    admin_client, static_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    row = Membership.objects.get()

    admin_client.post(url("membership_delete", row.pk), {"post": "yes"})

    assert not Membership.objects.exists()
    assert [a for _, a, _ in history(static_segment)] == ["entered", "left"]


def test_membership_delete_selected__block_row__block_lifted(
    admin_client, static_segment, customer, actor
):
    segment_override_set(
        segment=static_segment, customer=customer, user_status="block", actor=actor
    )

    act(admin_client, "membership", "delete_selected", Membership.objects.get())

    assert not Membership.objects.exists()
    assert [a for _, a, _ in history(static_segment)] == ["blocked", "override_reset"]


# Membership history


def test_membershipchange_changelist__history__newest_first_and_filters(
    admin_client, static_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    segment_override_set(
        segment=static_segment, customer=customer, user_status="block", actor=actor
    )
    changelist = url("membershipchange_changelist")

    response = admin_client.get(changelist)
    filtered = admin_client.get(changelist, {"action__exact": "entered"})

    assert [c.action for c in response.context["cl"].result_list] == [
        "blocked",
        "entered",
    ]
    assert [c.action for c in filtered.context["cl"].result_list] == ["entered"]


def test_membershipchange_admin__any_user__no_add_change_or_delete(
    admin_client, static_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    change = MembershipChange.objects.get()

    assert admin_client.get(url("membershipchange_add")).status_code == 403
    assert (
        admin_client.get(url("membershipchange_delete", change.pk)).status_code == 403
    )
    page = admin_client.get(url("membershipchange_change", change.pk))
    assert page.context["has_change_permission"] is False


# API keys


def test_api_key_add__scopes__created_and_key_shown_once(admin_client, admin_user):
    response = admin_client.post(
        url("apikey_add"),
        {"name": "CRM sync", "scopes": ["ingest", "read"], "expires_at_0": ""},
    )

    # Then the key is on this answer's page, not in a message (a cookie) to redirect
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    api_key = ApiKey.objects.get()
    assert (api_key.scopes, api_key.created_by) == (["read", "ingest"], admin_user)
    (key,) = re.findall(r"sk_[\w-]+", response.content.decode())
    assert api_key_authenticate(key=key) == api_key
    assert key not in str(response.cookies)
    assert not messages(response)
    # and it is never shown again
    page = admin_client.get(url("apikey_change", api_key.pk)).content.decode()
    assert key not in page
    assert api_key.secret_hash not in page


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "CRM"}, "scopes"),
        (
            {"name": "CRM", "scopes": ["read"]}
            | {"expires_at_0": "2020-01-01", "expires_at_1": "00:00"},
            "expires_at",
        ),
    ],
)
def test_api_key_add__bad_input__error_and_no_key(admin_client, data, field):
    data = {"expires_at_0": "", "expires_at_1": ""} | data

    response = admin_client.post(url("apikey_add"), data)

    assert list(errors(response)) == [field]
    assert not ApiKey.objects.exists()


def test_api_key_action_revoke__selected__revoked_and_unusable(admin_client, actor):
    created = api_key_create(name="CRM", scopes=["read"], actor=actor)
    kept = api_key_create(name="Shop", scopes=["read"], actor=actor)

    response = act(admin_client, "apikey", "revoke", created.api_key)

    assert api_key_authenticate(key=created.key) is None
    assert api_key_authenticate(key=kept.key) == kept.api_key
    assert messages(response) == ["Revoked 1 of 1 selected."]


def test_api_key_delete__any_key__refused(admin_client, actor):
    created = api_key_create(name="CRM", scopes=["read"], actor=actor)

    response = admin_client.get(url("apikey_delete", created.api_key.pk))

    assert response.status_code == 403
