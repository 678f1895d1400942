"""The ingestion page: events as they arrive (the page polls a partial), counts per
name over the last hour, day and week, and when each last arrived."""

import json

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from segments.models import Event
from segments.selectors import customer_by_id, event_name_counts, events_recent

POLL_SECONDS = 3
LIVE_ROWS = 50


def _context(request) -> dict:
    name = request.GET.get("name", "").strip()
    customer = request.GET.get("customer", "").strip()
    found = customer_by_id(value=customer) if customer else None
    events = (
        []
        if customer and found is None
        else events_recent(name=name, customer=found, limit=LIVE_ROWS)
    )
    return {
        "name": name,
        "customer": customer,
        "counts": event_name_counts(),
        "events": [
            (event, json.dumps(event.properties, ensure_ascii=False))
            for event in events
        ],
    }


def ingestion_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    partial = request.GET.get("partial") == "1"
    context = _context(request)
    if partial:
        return TemplateResponse(request, "admin/segments/event/live_rows.html", context)
    context.update(
        model_admin.admin_site.each_context(request),
        title="Data ingestion",
        opts=Event._meta,
        poll_seconds=POLL_SECONDS,
    )
    return TemplateResponse(request, "admin/segments/event/live.html", context)
