"""Segments: list, create (with customers, Segmenter's way), read, change, delete."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from segments.models import Segment
from segments.rules import rule_to_dict
from segments.selectors import segment_list, segment_preview, segment_rule_spec
from segments.services import (
    segment_create,
    segment_create_with_customers,
    segment_delete,
    segment_update,
)

from ..base import ApiView, actor, segment_or_404, valid
from ..fields import JsonInput, RulesField
from ..serializers import MAX_IDS, CustomerInput, CustomerRefOutput


class SegmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    type = serializers.ChoiceField(choices=Segment.Type.choices)
    trigger_event = serializers.CharField()
    exit_after_days = serializers.IntegerField(allow_null=True)
    archived = serializers.BooleanField()
    member_count = serializers.IntegerField(help_text="Members, test users included.")
    compute_state = serializers.ChoiceField(
        choices=Segment.ComputeState.choices,
        help_text="Rule segments: idle (up to date), queued, running or failed.",
    )
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the members were last computed in full."
    )
    compute_error = serializers.CharField(
        help_text="Why the last computation failed; it is retried."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SegmentDetailOutput(SegmentOutput):
    rules = serializers.SerializerMethodField()

    def get_rules(self, segment) -> dict | None:
        spec = segment_rule_spec(segment=segment)
        return rule_to_dict(spec) if spec else None


def segment_answer(
    segment: Segment, code=status.HTTP_200_OK, output=SegmentDetailOutput, **extra
) -> Response:
    """The segment as read back, with its member count and any `extra` attributes
    the `output` serializer shows."""
    segment = segment_list().get(pk=segment.pk)
    for name, value in extra.items():
        setattr(segment, name, value)
    return Response(output(segment).data, status=code)


def exit_after_days_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=Segment.MAX_DAYS,
        help_text="Event-triggered segments: members leave this many days after "
        "entering (null: they stay).",
    )


class SegmentsApi(ApiView):
    class CreateInputSerializer(JsonInput):
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True)
        type = serializers.ChoiceField(
            choices=Segment.Type.choices, default=Segment.Type.STATIC
        )
        trigger_event = serializers.CharField(
            required=False, allow_blank=True, max_length=200
        )
        exit_after_days = exit_after_days_field()
        rules = RulesField(
            required=False,
            allow_null=True,
            help_text='The condition tree: {"match": "all"|"any"|"none", '
            '"conditions": [{"field", "operator", "value"}], "rules": [...]}.',
        )
        customers = CustomerInput(
            many=True,
            required=False,
            max_length=MAX_IDS,
            help_text="People to create or update and add at once (Segmenter's "
            "persons).",
        )

    class CreateOutputSerializer(SegmentDetailOutput):
        customers = CustomerRefOutput(many=True, required=False)

    @extend_schema(responses=SegmentOutput(many=True), summary="List segments")
    def get(self, request):
        return Response(SegmentOutput(segment_list(), many=True).data)

    @extend_schema(
        request=CreateInputSerializer,
        responses={201: CreateOutputSerializer},
        summary="Create a segment, optionally with its customers",
        description="With `customers`, each is created or updated by its id and "
        "added, all in one transaction; the answer lists them in the order given.",
    )
    def post(self, request):
        data = valid(self.CreateInputSerializer, request.data)
        if "customers" not in data:
            segment = segment_create(actor=actor(request), **data)
            return segment_answer(segment, status.HTTP_201_CREATED)
        result = segment_create_with_customers(actor=actor(request), **data)
        return segment_answer(
            result.segment,
            status.HTTP_201_CREATED,
            self.CreateOutputSerializer,
            customers=result.customers,
        )


class SegmentDetailApi(ApiView):
    class UpdateInputSerializer(JsonInput):
        name = serializers.CharField(required=False, max_length=200)
        description = serializers.CharField(required=False, allow_blank=True)
        type = serializers.CharField(
            required=False, help_text="Fixed once created: a change is refused."
        )
        trigger_event = serializers.CharField(
            required=False, allow_blank=True, max_length=200
        )
        exit_after_days = exit_after_days_field()
        rules = RulesField(
            required=False, allow_null=True, help_text="Replaces the tree; null: none."
        )
        archived = serializers.BooleanField(required=False)

    @extend_schema(responses=SegmentDetailOutput, summary="Read a segment")
    def get(self, request, segment_id: int):
        return segment_answer(segment_or_404(segment_id))

    @extend_schema(
        request=UpdateInputSerializer,
        responses=SegmentDetailOutput,
        summary="Change a segment",
    )
    def patch(self, request, segment_id: int):
        segment = segment_or_404(segment_id)
        data = valid(self.UpdateInputSerializer, request.data)
        return segment_answer(
            segment_update(segment=segment, actor=actor(request), **data)
        )

    @extend_schema(
        responses={204: None},
        summary="Delete a segment with its members and history",
        description="Refused (400) while the segment is a campaign's audience; the "
        "message names the campaigns.",
    )
    def delete(self, request, segment_id: int):
        segment = segment_or_404(segment_id)
        segment_delete(segment=segment, actor=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConditionCountOutput(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()


class SegmentPreviewApi(ApiView):
    scopes = {"POST": "read"}  # a read, posted because the tree is a body

    class InputSerializer(JsonInput):
        type = serializers.ChoiceField(
            choices=Segment.Type.choices, default=Segment.Type.RULE
        )
        trigger_event = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=200,
            help_text="Event-triggered segments: the preview counts customers with a "
            "past event of this name for which the conditions hold.",
        )
        rules = RulesField(help_text="The condition tree to try.")
        segment_id = serializers.IntegerField(
            required=False,
            help_text="The segment being edited, if any: its rules may not test it.",
        )
        sample_size = serializers.IntegerField(default=10, min_value=0, max_value=100)

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField(help_text="Customers the tree matches now.")
        sample = CustomerRefOutput(many=True)
        conditions = ConditionCountOutput(
            many=True, help_text="Each top-level condition or group on its own."
        )

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer,
        summary="Preview an unsaved condition tree",
        description="How many customers the rules match right now, a sample of them, "
        "and how many each top-level condition or group matches on its own. "
        "Nothing is saved. Needs the `read` scope.",
    )
    def post(self, request):
        data = valid(self.InputSerializer, request.data)
        segment = None
        if "segment_id" in data:
            segment = segment_or_404(data["segment_id"])
        preview = segment_preview(
            rules=data["rules"],
            type=data["type"],
            trigger_event=data.get("trigger_event", ""),
            segment=segment,
            sample_size=data["sample_size"],
        )
        return Response(self.OutputSerializer(preview).data)
