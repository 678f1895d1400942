from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Segments"
admin.site.site_title = "Segments"
admin.site.index_title = "Audience segmentation"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]
