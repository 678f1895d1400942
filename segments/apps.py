from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SegmentsConfig(AppConfig):
    name = "segments"
    default_auto_field = "django.db.models.BigAutoField"


class SegmentsAdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site: the dashboard as its home page."""

    default = False  # named in INSTALLED_APPS; "segments" alone is SegmentsConfig
    default_site = "segments.admin_site.SegmentsAdminSite"
