"""Members of a segment: bulk adds and removes, Village's overrides, reads."""

from dataclasses import asdict
from datetime import UTC, datetime

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from segments.models import Membership, MembershipChange
from segments.selectors import (
    customer_by_user,
    customer_filter,
    customer_keys_by_ids,
    customers_by_ids,
    explanation_rows,
    membership_explain,
    segment_history,
    segment_member,
    segment_member_check,
    segment_members,
    segment_stats,
)
from segments.services import (
    segment_members_add,
    segment_members_remove,
    segment_override_set,
)

from ..base import (
    ApiView,
    NewestFirst,
    actor,
    customer_in_path,
    paginated,
    segment_or_404,
    valid,
    valid_query,
)
from ..fields import IdField, JsonInput, JsonObjectField
from ..serializers import IdsInput, IdTypeQuery


def _customers(request, find=customers_by_ids):
    """The ids in the body, found by the query's id_type, and the call's context."""
    id_type = valid_query(IdTypeQuery, request)["id_type"]
    data = valid(IdsInput, request.data, id_type=id_type)
    return find(ids=data.pop("ids"), id_type=id_type), data


class SegmentAddCustomersApi(ApiView):
    class OutputSerializer(serializers.Serializer):
        added = serializers.IntegerField()
        already_members = serializers.IntegerField()
        unknown_ids = serializers.ListField(child=serializers.CharField())
        blocked_ids = serializers.ListField(
            child=serializers.CharField(), help_text="Kept out by a block override."
        )

    @extend_schema(
        parameters=[IdTypeQuery],
        request=IdsInput,
        responses=OutputSerializer,
        summary="Add customers to a segment",
        description="Up to 10,000 ids, in one transaction. Ids matching nobody are "
        "listed in `unknown_ids`; blocked customers stay out, in `blocked_ids`. In a "
        "rule segment the added customers get an `add` override.",
    )
    def post(self, request, segment_id: int):
        segment = segment_or_404(segment_id)
        # The customers' ids only: the service needs no more of them.
        lookup, context = _customers(request, find=customer_keys_by_ids)
        result = segment_members_add(
            segment=segment,
            customers=lookup.found.values(),
            actor=actor(request),
            **context,
        )
        blocked = {customer.pk for customer in result.blocked}
        answer = {
            "added": len(result.added),
            "already_members": len(result.already_members),
            "unknown_ids": lookup.unknown,
            "blocked_ids": [
                given for given, c in lookup.found.items() if c.pk in blocked
            ],
        }
        return Response(self.OutputSerializer(answer).data)


class SegmentRemoveCustomersApi(ApiView):
    class OutputSerializer(serializers.Serializer):
        removed = serializers.IntegerField()
        not_members = serializers.IntegerField()
        unknown_ids = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        parameters=[IdTypeQuery],
        request=IdsInput,
        responses=OutputSerializer,
        summary="Remove customers from a segment",
        description="Up to 10,000 ids, in one transaction. Blocks stay in place: "
        "lift one with POST /segments/status and user_status reset.",
    )
    def post(self, request, segment_id: int):
        segment = segment_or_404(segment_id)
        lookup, context = _customers(request)
        result = segment_members_remove(
            segment=segment,
            customers=lookup.found.values(),
            actor=actor(request),
            **context,
        )
        answer = {
            "removed": len(result.removed),
            "not_members": len(result.not_members),
            "unknown_ids": lookup.unknown,
        }
        return Response(self.OutputSerializer(answer).data)


class SegmentStatusApi(ApiView):
    class InputSerializer(JsonInput):
        user = IdField(help_text="The customer's id or email.")
        segment_id = serializers.IntegerField()
        user_status = serializers.ChoiceField(choices=["add", "block", "reset"])
        metadata = JsonObjectField(required=False)
        reference_id = serializers.CharField(
            required=False, allow_blank=True, max_length=255
        )
        status_change_timestamp = serializers.IntegerField(
            required=False,
            min_value=0,
            max_value=253402300799,  # 9999-12-31
            help_text="Unix seconds when the change happened; default now. A change "
            "older than the last one applied is recorded but not applied.",
        )
        description = serializers.CharField(required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        segment_id = serializers.IntegerField()
        user_id = serializers.CharField()
        user_status = serializers.CharField(help_text="As requested.")
        member = serializers.BooleanField()
        override = serializers.ChoiceField(choices=Membership.Override.choices)
        changed = serializers.BooleanField()
        stale = serializers.BooleanField(
            help_text="True when the change was older than the last one applied."
        )

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer,
        summary="Set a customer's override in a segment (Village)",
        description="`add` keeps the customer in whatever the rules say; `block` "
        "takes them out and keeps them out; `reset` hands the decision back to the "
        "rules. Answers the resulting state.",
    )
    def post(self, request):
        data = valid(self.InputSerializer, request.data)
        segment = segment_or_404(data.pop("segment_id"))
        user = data.pop("user")
        customer = customer_by_user(user=user)
        if customer is None:
            raise exceptions.NotFound(f"No customer with id or email {user!r}.")
        timestamp = data.pop("status_change_timestamp", None)
        state = segment_override_set(
            segment=segment,
            customer=customer,
            actor=actor(request),
            occurred_at=datetime.fromtimestamp(timestamp, UTC) if timestamp else None,
            **data,
        )
        answer = {
            "segment_id": segment.pk,
            "user_id": customer.external_id,
            "user_status": data["user_status"],
            "member": state.is_member,
            "override": state.override,
            "changed": state.changed,
            "stale": state.stale,
        }
        return Response(self.OutputSerializer(answer).data)


class MemberOutput(serializers.Serializer):
    customer_id = serializers.CharField(source="customer.external_id")
    internal_id = serializers.IntegerField(source="customer_id")
    email = serializers.CharField(source="customer.email")
    source = serializers.ChoiceField(choices=Membership.Source.choices)
    override = serializers.ChoiceField(choices=Membership.Override.choices)
    is_test = serializers.BooleanField()
    joined_at = serializers.DateTimeField()
    reference_id = serializers.CharField()
    metadata = serializers.DictField()


class SegmentMembersApi(ApiView):
    pagination_class = NewestFirst

    class FilterSerializer(serializers.Serializer):
        source = serializers.ChoiceField(
            choices=Membership.Source.choices, required=False
        )
        is_test = serializers.BooleanField(required=False)
        override = serializers.ChoiceField(
            choices=Membership.Override.choices,
            required=False,
            help_text="block lists the customers the segment blocks.",
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses=MemberOutput(many=True),
        summary="List a segment's members, newest first",
    )
    def get(self, request, segment_id: int):
        segment = segment_or_404(segment_id)
        filters = valid_query(self.FilterSerializer, request)
        rows = segment_members(segment=segment, **filters)
        return paginated(self, rows, MemberOutput)


class ExplainedConditionOutput(serializers.Serializer):
    depth = serializers.IntegerField(help_text="0 for the root group, 1 inside it...")
    label = serializers.CharField()
    matched = serializers.BooleanField()
    value = serializers.CharField(help_text="The customer's value that decided it.")


class EntryOutput(serializers.Serializer):
    action = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    actor_label = serializers.CharField()
    reference_id = serializers.CharField()
    description = serializers.CharField()


class ExplanationOutput(serializers.Serializer):
    rules_match = serializers.BooleanField(
        allow_null=True, help_text="null for a static segment"
    )
    is_test = serializers.BooleanField()
    trigger_event_at = serializers.DateTimeField(
        allow_null=True, source="trigger.timestamp", default=None
    )
    conditions = ExplainedConditionOutput(many=True)
    entry = EntryOutput(allow_null=True, help_text="The change that put them in.")


class MemberDetailQuery(IdTypeQuery):
    explain = serializers.BooleanField(
        default=False, help_text="Add why: each condition matched or not."
    )


class SegmentMemberDetailApi(ApiView):
    class OutputSerializer(serializers.Serializer):
        member = serializers.BooleanField()
        source = serializers.CharField(allow_null=True)
        override = serializers.ChoiceField(choices=Membership.Override.choices)
        joined_at = serializers.DateTimeField(allow_null=True)
        explanation = ExplanationOutput(
            required=False, help_text="With explain=true only."
        )

    @extend_schema(
        parameters=[MemberDetailQuery],
        responses=OutputSerializer,
        summary="Whether a customer is a member of a segment, and why",
    )
    def get(self, request, segment_id: int, customer_id: str):
        query = valid_query(MemberDetailQuery, request)
        if not query["explain"]:
            # The usual call: one query, and the 404s below when it finds nothing.
            standing = segment_member_check(
                segment_id=segment_id,
                customer_filter=customer_filter(
                    value=customer_id, id_type=query["id_type"]
                ),
            )
            if standing is not None:
                return Response(self.OutputSerializer(standing).data)
        segment = segment_or_404(segment_id)
        customer = customer_in_path(request, customer_id)
        standing = segment_member(segment=segment, customer=customer)
        if not query["explain"]:
            return Response(self.OutputSerializer(standing).data)
        why = membership_explain(segment=segment, customer=customer)
        body = {**asdict(standing), "explanation": explanation_rows(why)}
        return Response(self.OutputSerializer(body).data)


class DayOutput(serializers.Serializer):
    date = serializers.DateField()
    joins = serializers.IntegerField()
    leaves = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Members at the end of the day.")


class SegmentStatsApi(ApiView):
    class OutputSerializer(serializers.Serializer):
        total = serializers.IntegerField()
        new_this_week = serializers.IntegerField(help_text="Joined in the last 7 days.")
        new_this_month = serializers.IntegerField(
            help_text="Joined in the last 30 days."
        )
        daily = DayOutput(many=True)

    @extend_schema(
        responses=OutputSerializer,
        summary="Member counts and 90 days of joins and leaves",
        description="Test users are not counted. Days are in the server's time zone.",
    )
    def get(self, request, segment_id: int):
        stats = segment_stats(segment=segment_or_404(segment_id))
        return Response(self.OutputSerializer(stats).data)


class ChangeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    customer_id = serializers.CharField(
        source="customer.external_id",
        allow_null=True,
        help_text="Null once the customer is erased: the change is kept, anonymised.",
    )
    internal_id = serializers.IntegerField(source="customer_id", allow_null=True)
    action = serializers.ChoiceField(choices=MembershipChange.Action.choices)
    was_member = serializers.BooleanField()
    is_member = serializers.BooleanField()
    source = serializers.CharField()
    override = serializers.CharField()
    is_test = serializers.BooleanField()
    actor_type = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    reference_id = serializers.CharField()
    metadata = serializers.DictField()
    description = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()


class SegmentHistoryApi(ApiView):
    pagination_class = NewestFirst

    @extend_schema(
        responses=ChangeOutput(many=True),
        summary="The segment's membership changes, newest first",
    )
    def get(self, request, segment_id: int):
        segment = segment_or_404(segment_id)
        return paginated(self, segment_history(segment=segment), ChangeOutput)
