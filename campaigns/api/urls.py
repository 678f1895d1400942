from django.urls import path

from . import views

urlpatterns = [
    path("campaigns", views.CampaignsApi.as_view()),
    path("campaigns/<int:campaign_id>", views.CampaignDetailApi.as_view()),
    path("campaigns/<int:campaign_id>/users", views.CampaignUsersApi.as_view()),
    path(
        "campaigns/<int:campaign_id>/users/<str:user_id>",
        views.CampaignUserDetailApi.as_view(),
    ),
    path("customers/<str:customer_id>", views.CustomerDetailApi.as_view()),
    path(
        "customers/<str:customer_id>/campaigns",
        views.CustomerCampaignsApi.as_view(),
    ),
]
