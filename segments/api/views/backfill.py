"""Backfill of an event-triggered segment from stored events (scope `write`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from segments.models import Segment
from segments.services.event_segments import segment_backfill

from ..base import ApiView, actor, segment_or_404, valid
from ..fields import JsonInput


class SegmentBackfillApi(ApiView):
    class InputSerializer(JsonInput):
        days = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=Segment.MAX_DAYS,
            help_text="Only trigger events of the last N days; default: all.",
        )

    class OutputSerializer(serializers.Serializer):
        candidates = serializers.IntegerField(
            help_text="Customers whose past trigger event meets the conditions."
        )
        entered = serializers.IntegerField()
        already_members = serializers.IntegerField()
        blocked = serializers.IntegerField()

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer,
        summary="Let in the customers past trigger events would have let in",
        description="For event-triggered segments: every customer with a stored "
        "trigger event (in the last `days` days) for which the conditions hold "
        "enters, as the preview counts them; blocked customers stay out.",
    )
    def post(self, request, segment_id: int):
        segment = segment_or_404(segment_id)
        data = valid(self.InputSerializer, request.data)
        result = segment_backfill(
            segment=segment, actor=actor(request), days=data.get("days")
        )
        return Response(self.OutputSerializer(result).data)
