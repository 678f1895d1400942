"""The admin site: a dashboard for its home, segments and campaigns first.

Outside the segments.admin package: Django builds the site while that package
registers its ModelAdmins on it.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import admin

from segments.selectors import (
    computations_in_trouble,
    dashboard_counts,
    recent_activity,
    segments_growing,
)

# Apps and models in the order a marketer looks for them, other apps after them,
# users and groups last, out of the way.
APP_ORDER = ("segments", "campaigns", "webhooks")
LAST_APPS = ("auth",)
MODEL_ORDER = (
    "Segment",
    "Campaign",
    "Membership",
    "Enrollment",
    "Customer",
    "Event",
    "MembershipChange",
    "Condition",
    "ApiKey",
)


def _rank(order: tuple[str, ...], name: str) -> int:
    return order.index(name) if name in order else len(order)


class SegmentsAdminSite(admin.AdminSite):
    site_header = "Segments"
    site_title = "Segments"
    index_title = "Dashboard"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Other apps add their figures to the home page (campaigns: live campaigns)
        # without the segments app importing them.
        self.dashboard_counters: list[Callable[[], dict[str, Any]]] = []

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        apps.sort(
            key=lambda app: (
                app["app_label"] in LAST_APPS,
                _rank(APP_ORDER, app["app_label"]),
            )
        )
        for app in apps:
            app["models"].sort(key=lambda m: _rank(MODEL_ORDER, m["object_name"]))
        return apps

    def index(self, request, extra_context=None):
        counts = dashboard_counts()
        for counter in self.dashboard_counters:
            counts.update(counter())
        context = {
            "counts": counts,
            "growing": segments_growing(),
            "in_trouble": list(computations_in_trouble()),
            "activity": recent_activity(),
            **(extra_context or {}),
        }
        return super().index(request, context)
