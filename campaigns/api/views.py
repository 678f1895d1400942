"""Campaigns and their users (CustomerGlu's operations), and the customer's own view
of segments and campaigns: it lives here because segments does not import campaigns.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from campaigns.models import Campaign
from campaigns.selectors import (
    campaign_list,
    customer_campaigns,
    enrollment_check,
    enrollment_status,
)
from campaigns.services import (
    campaign_create,
    campaign_delete,
    campaign_update,
    enrollment_add,
    enrollment_remove,
)
from segments.api.base import (
    ApiView,
    actor,
    customer_in_path,
    customer_or_404,
    get_or_404,
    valid,
)
from segments.api.fields import IdField, JsonInput
from segments.api.serializers import CustomerOutput, IdTypeQuery, SegmentRefOutput
from segments.models import Segment
from segments.selectors import customer_filter, customer_segments
from segments.services import customer_erase


class CampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    segment_ids = serializers.SerializerMethodField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    live = serializers.SerializerMethodField(
        help_text="Active and inside its start/end window: it enrolls."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_segment_ids(self, campaign) -> list[int]:
        return sorted(segment.pk for segment in campaign.segments.all())

    def get_live(self, campaign) -> bool:
        return campaign.is_live()


class CampaignInput(JsonInput):
    """Fields of a campaign; `partial` in the context for a change."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Campaign.Status.choices, required=False)
    segment_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Audience."
    )
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate_segment_ids(self, ids: list[int]) -> list[Segment]:
        segments = list(Segment.objects.filter(pk__in=ids))
        missing = sorted(set(ids) - {segment.pk for segment in segments})
        if missing:
            raise serializers.ValidationError(
                f"No segment with id {', '.join(map(str, missing))}."
            )
        return segments

    def validate(self, attrs):
        if "segment_ids" in attrs:
            attrs["segments"] = attrs.pop("segment_ids")
        return attrs


class CampaignUpdateInput(CampaignInput):
    name = serializers.CharField(max_length=200, required=False)


def campaign_answer(campaign: Campaign, code=status.HTTP_200_OK) -> Response:
    return Response(CampaignOutput(campaign_list().get(pk=campaign.pk)).data, code)


class CampaignsApi(ApiView):
    @extend_schema(responses=CampaignOutput(many=True), summary="List campaigns")
    def get(self, request):
        return Response(CampaignOutput(campaign_list(), many=True).data)

    @extend_schema(
        request=CampaignInput,
        responses={201: CampaignOutput},
        summary="Create a campaign",
        description="Created active (and inside its window), it enrolls the members "
        "of its audience segments at once.",
    )
    def post(self, request):
        data = valid(CampaignInput, request.data)
        campaign = campaign_create(actor=actor(request), **data)
        return campaign_answer(campaign, status.HTTP_201_CREATED)


class CampaignDetailApi(ApiView):
    @extend_schema(responses=CampaignOutput, summary="Read a campaign")
    def get(self, request, campaign_id: int):
        return campaign_answer(_campaign(campaign_id))

    @extend_schema(
        request=CampaignUpdateInput,
        responses=CampaignOutput,
        summary="Change a campaign",
        description="`segment_ids` replaces the audience. A campaign going live, or "
        "gaining segments while live, enrolls their members at once.",
    )
    def patch(self, request, campaign_id: int):
        campaign = _campaign(campaign_id)
        data = valid(CampaignUpdateInput, request.data)
        return campaign_answer(
            campaign_update(campaign=campaign, actor=actor(request), **data)
        )

    @extend_schema(responses={204: None}, summary="Delete a campaign")
    def delete(self, request, campaign_id: int):
        campaign_delete(campaign=_campaign(campaign_id), actor=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _campaign(campaign_id: int) -> Campaign:
    return get_or_404(campaign_list(), "campaign", pk=campaign_id)


def _live_campaign(campaign_id: int) -> Campaign:
    """CustomerGlu's rule: users of a campaign that is not running are not found."""
    campaign = _campaign(campaign_id)
    if not campaign.is_live():
        raise exceptions.NotFound(
            f'Campaign {campaign.pk} ("{campaign.name}") is not active: its status is '
            f"{campaign.status}, from {campaign.starts_at or 'any time'} to "
            f"{campaign.ends_at or 'no end'}."
        )
    return campaign


class EnrollmentOutput(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    user_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["active", "removed", "not_enrolled"])
    source = serializers.CharField(allow_null=True)
    enrolled_at = serializers.DateTimeField(allow_null=True)
    removed_at = serializers.DateTimeField(allow_null=True)


def enrollment_answer(campaign, customer, code=status.HTTP_200_OK) -> Response:
    standing = enrollment_status(campaign=campaign, customer=customer)
    return Response(EnrollmentOutput(standing).data, status=code)


class CampaignUsersApi(ApiView):
    class InputSerializer(JsonInput):
        user_id = IdField(help_text="The customer's id.")

    @extend_schema(
        request=InputSerializer,
        responses={200: EnrollmentOutput, 201: EnrollmentOutput},
        summary="Enroll a customer in a campaign",
        description="201 when enrolled (or brought back after a removal), 200 when "
        "already active. 404 when the campaign is not active.",
    )
    def post(self, request, campaign_id: int):
        campaign = _live_campaign(campaign_id)
        data = valid(self.InputSerializer, request.data)
        customer = customer_or_404(value=data["user_id"])
        result = enrollment_add(
            campaign=campaign, customer=customer, actor=actor(request)
        )
        code = status.HTTP_201_CREATED if result.changed else status.HTTP_200_OK
        return enrollment_answer(campaign, customer, code)


class CampaignUserDetailApi(ApiView):
    @extend_schema(
        responses=EnrollmentOutput, summary="A customer's status in a campaign"
    )
    def get(self, request, campaign_id: int, user_id: str):
        standing = enrollment_check(
            campaign_id=campaign_id,
            user_id=customer_filter(value=user_id)["external_id"],
        )
        if standing is not None:  # the usual call: one query
            return Response(EnrollmentOutput(standing).data)
        campaign = _live_campaign(campaign_id)  # the 404 that applies
        return enrollment_answer(campaign, customer_or_404(value=user_id))

    @extend_schema(
        request=None,
        responses={200: EnrollmentOutput},
        summary="Remove a customer from a campaign",
        description="The campaign stops appearing for them; they stay removed until "
        "enrolled again with POST.",
    )
    def delete(self, request, campaign_id: int, user_id: str):
        campaign = _live_campaign(campaign_id)
        customer = customer_or_404(value=user_id)
        enrollment_remove(campaign=campaign, customer=customer, actor=actor(request))
        return enrollment_answer(campaign, customer)


class CampaignRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()


class CampaignSummaryOutput(CampaignRefOutput):
    description = serializers.CharField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)


class CustomerDetailApi(ApiView):
    class OutputSerializer(CustomerOutput):
        segments = SegmentRefOutput(many=True)
        campaigns = CampaignRefOutput(many=True)

    class ErasedSerializer(serializers.Serializer):
        deleted = serializers.DictField(
            child=serializers.IntegerField(), help_text="Rows removed, per kind."
        )

    @extend_schema(
        parameters=[IdTypeQuery],
        responses=OutputSerializer,
        summary="A customer with the segments and campaigns they are in",
    )
    def get(self, request, customer_id: str):
        customer = customer_in_path(request, customer_id)
        customer.segments = customer_segments(customer=customer)
        customer.campaigns = customer_campaigns(customer=customer)
        return Response(self.OutputSerializer(customer).data)

    @extend_schema(
        parameters=[IdTypeQuery],
        responses={200: ErasedSerializer},
        summary="Erase a customer and all their data",
        description="Events, memberships, their history and enrollments go too.",
    )
    def delete(self, request, customer_id: str):
        customer = customer_in_path(request, customer_id)
        deleted = customer_erase(customer=customer, actor=actor(request))
        return Response(self.ErasedSerializer({"deleted": deleted}).data)


class CustomerCampaignsApi(ApiView):
    @extend_schema(
        parameters=[IdTypeQuery],
        responses=CampaignSummaryOutput(many=True),
        summary="The active campaigns this customer sees",
    )
    def get(self, request, customer_id: str):
        customer = customer_in_path(request, customer_id)
        campaigns = customer_campaigns(customer=customer)
        return Response(CampaignSummaryOutput(campaigns, many=True).data)
