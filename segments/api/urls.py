from django.urls import path

from . import views

urlpatterns = [
    path("customers", views.CustomersApi.as_view()),
    path("events", views.EventsApi.as_view()),
    path("events/batch", views.EventsBatchApi.as_view()),
    path("messages", views.MessagesApi.as_view()),
    path("segments", views.SegmentsApi.as_view()),
    path("segments/status", views.SegmentStatusApi.as_view()),
    path("segments/preview", views.SegmentPreviewApi.as_view()),
    path("segments/<int:segment_id>", views.SegmentDetailApi.as_view()),
    path(
        "segments/<int:segment_id>/add_customers",
        views.SegmentAddCustomersApi.as_view(),
    ),
    path(
        "segments/<int:segment_id>/remove_customers",
        views.SegmentRemoveCustomersApi.as_view(),
    ),
    path("segments/<int:segment_id>/members", views.SegmentMembersApi.as_view()),
    path(
        "segments/<int:segment_id>/members/<str:customer_id>",
        views.SegmentMemberDetailApi.as_view(),
    ),
    path("segments/<int:segment_id>/stats", views.SegmentStatsApi.as_view()),
    path("segments/<int:segment_id>/backfill", views.SegmentBackfillApi.as_view()),
    path("segments/<int:segment_id>/history", views.SegmentHistoryApi.as_view()),
    path("segments/<int:segment_id>/imports", views.SegmentImportsApi.as_view()),
    path("segments/<int:segment_id>/export", views.SegmentExportApi.as_view()),
    path("imports/<int:import_id>", views.ImportDetailApi.as_view()),
    path("imports/<int:import_id>/cancel", views.ImportCancelApi.as_view()),
    path("imports/<int:import_id>/issues", views.ImportIssuesApi.as_view()),
]
