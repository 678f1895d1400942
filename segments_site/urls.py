from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from segments.api.errors import api_not_found

admin.site.site_header = "Segments"
admin.site.site_title = "Segments"
admin.site.index_title = "Audience segmentation"

# Django's own error pages answer JSON under /api/.
handler400 = "segments.api.errors.handler400"
handler403 = "segments.api.errors.handler403"
handler404 = "segments.api.errors.handler404"
handler500 = "segments.api.errors.handler500"

api_v1 = [
    path("", include("segments.api.urls")),
    path("", include("campaigns.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^api/", api_not_found),
]
