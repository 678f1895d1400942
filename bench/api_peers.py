"""The API benchmark's URLconf: the real app, plus two peers doing the same lookups.

Served only by `bench/api.py` (settings `bench.api_peers_settings`). The peers are
what a Django developer would write for the same answer, without our API's layers:

- a plain Django view: `get_object_or_404` and `.first()`, a `JsonResponse`;
- a plain DRF view: an `APIView` with no authentication, permission or throttle
  classes, answering a dict through `Response`.

Both read the customer by external id and then the membership row (membership
check), or the campaign, the customer and the enrollment row (campaign user check),
and answer the same fields as our endpoints.
"""

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Campaign, Enrollment
from segments.models import Customer, Membership
from segments_site.urls import urlpatterns as app_urlpatterns


def member_answer(segment_id: int, customer_id: str) -> dict:
    customer = get_object_or_404(Customer, external_id=customer_id)
    row = Membership.objects.filter(segment_id=segment_id, customer=customer).first()
    member = row is not None and row.is_member
    return {
        "member": member,
        "source": row.source if row else None,
        "override": row.override if row else Membership.Override.NONE,
        "joined_at": row.joined_at if member else None,
    }


def campaign_user_answer(campaign_id: int, user_id: str) -> dict:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if not campaign.is_live():
        raise Http404("not active")
    customer = get_object_or_404(Customer, external_id=user_id)
    row = Enrollment.objects.filter(campaign=campaign, customer=customer).first()
    return {
        "campaign_id": campaign.pk,
        "user_id": customer.external_id,
        "status": row.status if row else "not_enrolled",
        "source": row.source if row else None,
        "enrolled_at": row.enrolled_at if row else None,
        "removed_at": row.removed_at if row else None,
    }


def plain_member(request, segment_id: int, customer_id: str):
    return JsonResponse(member_answer(segment_id, customer_id))


def plain_campaign_user(request, campaign_id: int, user_id: str):
    return JsonResponse(campaign_user_answer(campaign_id, user_id))


class BareApiView(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


class DrfMember(BareApiView):
    def get(self, request, segment_id: int, customer_id: str):
        return Response(member_answer(segment_id, customer_id))


class DrfCampaignUser(BareApiView):
    def get(self, request, campaign_id: int, user_id: str):
        return Response(campaign_user_answer(campaign_id, user_id))


# The app's own paths first, as it resolves them in production; then the peers'.
urlpatterns = [
    *app_urlpatterns,
    path(
        "peers/django/segments/<int:segment_id>/members/<str:customer_id>", plain_member
    ),
    path(
        "peers/django/campaigns/<int:campaign_id>/users/<str:user_id>",
        plain_campaign_user,
    ),
    path(
        "peers/drf/segments/<int:segment_id>/members/<str:customer_id>",
        DrfMember.as_view(),
    ),
    path(
        "peers/drf/campaigns/<int:campaign_id>/users/<str:user_id>",
        DrfCampaignUser.as_view(),
    ),
]
handler400 = "segments.api.errors.handler400"
handler403 = "segments.api.errors.handler403"
handler404 = "segments.api.errors.handler404"
handler500 = "segments.api.errors.handler500"
