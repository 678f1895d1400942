"""Webhooks out: segment entries and exits, campaign enrollments and removals,
queued in the transaction that made them (nothing for rolled-back work), delivered
after it commits, signed per Standard Webhooks, retried with exponential backoff.

A change of many customers is sent as pages of WEBHOOKS_PAGE_SIZE customers per
endpoint: a recompute that moves 200,000 people sends 200 requests."""

import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import Campaign, Enrollment
from segments.models import Membership
from segments.services.passes import read_once_per_pass

from .delivery import Delivery, post_signed
from .models import EventType, WebhookAttempt, WebhookEndpoint, WebhookMessage

Status = WebhookMessage.Status


def webhook_members_changed(
    sender,
    *,
    memberships: QuerySet[Membership],
    entered: bool,
    context,
    actors: dict | None = None,
    **kwargs,
) -> None:
    """Listener of segments' members_changed: queue a message per page of
    customers for every active endpoint that wants this change. `actors`: who
    changed each segment, when the segments changed had each their own."""
    event_type = EventType.SEGMENT_ENTERED if entered else EventType.SEGMENT_LEFT
    endpoints = _endpoints_for(event_type)
    if not endpoints:
        return
    rows = memberships.order_by("segment_id", "customer_id").values_list(
        "segment_id", "segment__name", "customer_id", "customer__external_id", "source"
    )
    by_segment: dict[int, list[dict[str, Any]]] = defaultdict(list)
    names: dict[int, str] = {}
    for segment_id, name, customer_id, external_id, source in rows:
        names[segment_id] = name
        by_segment[segment_id].append(
            {"id": external_id, "internal_id": customer_id, "source": source}
        )
    actors = actors or {}
    _queue(
        [
            _message(
                endpoint,
                event_type,
                {"segment": {"id": segment_id, "name": names.get(segment_id, "")}},
                page,
                occurred_at=context.occurred_at,
                why=_why(
                    actors.get(segment_id, context.actor),
                    context.reference_id,
                    context.description,
                ),
            )
            for segment_id, customers in by_segment.items()
            for endpoint in endpoints
            if endpoint.wants({segment_id})
            for page in _pages(customers)
        ]
    )


def webhook_enrollments_changed(
    sender,
    *,
    campaign: Campaign,
    enrollments: QuerySet[Enrollment],
    enrolled: bool,
    actor,
    description: str,
    occurred_at: datetime,
    **kwargs,
) -> None:
    """Listener of campaigns' enrollments_changed: as segment changes, a message per
    page of customers for every endpoint that wants it (a segment filter matches
    the campaigns whose audience includes one of its segments)."""
    event_type = EventType.CAMPAIGN_ENROLLED if enrolled else EventType.CAMPAIGN_REMOVED
    endpoints = _endpoints_for(event_type)
    if endpoints:
        audience = set(campaign.segments.values_list("pk", flat=True))
        endpoints = [e for e in endpoints if e.wants(audience)]
    if not endpoints:
        return
    rows = enrollments.order_by("customer_id").values_list(
        "customer_id", "customer__external_id", "source", "source_segment_id"
    )
    customers = [
        {"id": external_id, "internal_id": pk, "source": source, "segment_id": seg}
        for pk, external_id, source, seg in rows
    ]
    subject = {"campaign": {"id": campaign.pk, "name": campaign.name}}
    why = _why(actor, "", description)
    _queue(
        [
            _message(e, event_type, subject, page, occurred_at=occurred_at, why=why)
            for e in endpoints
            for page in _pages(customers)
        ]
    )


def _queue(messages: list[WebhookMessage]) -> None:
    if messages:
        WebhookMessage.objects.bulk_create(messages)
        transaction.on_commit(deliver_soon)


@dataclass
class _Endpoint:
    endpoint: WebhookEndpoint
    segment_ids: set[int]

    def wants(self, segment_ids: set[int]) -> bool:
        return not self.segment_ids or bool(segment_ids & self.segment_ids)


def _endpoints_for(event_type: str) -> list[_Endpoint]:
    """The active endpoints taking `event_type`, with the segments they filter
    on: read once per events pass (an event announces several changes)."""
    return [
        target
        for target, event_types in read_once_per_pass(
            "webhooks.endpoints", _active_endpoints
        )
        if event_type in event_types
    ]


def _active_endpoints() -> list[tuple[_Endpoint, list[str]]]:
    """Every active endpoint with its event types, in one query (a row per
    endpoint and segment; the messages need only the endpoint's id)."""
    rows = (
        WebhookEndpoint.objects.filter(is_active=True)
        .order_by("pk")
        .values_list("pk", "event_types", "segments")
    )
    found: dict[int, tuple[_Endpoint, list[str]]] = {}
    for pk, event_types, segment_id in rows:
        target, _ = found.setdefault(
            pk, (_Endpoint(WebhookEndpoint(pk=pk), set()), event_types)
        )
        if segment_id is not None:
            target.segment_ids.add(segment_id)
    return list(found.values())


def _pages(customers: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    size = settings.WEBHOOKS_PAGE_SIZE
    return [customers[i : i + size] for i in range(0, len(customers), size)]


def _why(actor, reference_id: str, description: str) -> dict[str, str]:
    """Who made the change and why, as every payload says it."""
    return {
        "actor": actor.label,
        "reference_id": reference_id,
        "description": description,
    }


def _message(
    target: _Endpoint,
    event_type: str,
    subject: dict[str, Any],
    customers: list[dict[str, Any]],
    *,
    occurred_at: datetime,
    why: dict[str, str],
) -> WebhookMessage:
    now = timezone.now()
    return WebhookMessage(
        endpoint_id=target.endpoint.pk,
        message_id=f"msg_{uuid.uuid4().hex}",
        event_type=event_type,
        payload={
            "type": event_type,
            "timestamp": now.isoformat(),
            "data": {
                **subject,
                "occurred_at": occurred_at.isoformat(),
                **why,
                "customers": customers,
            },
        },
        created_at=now,
        next_attempt_at=now,
    )


def deliver_soon() -> None:
    """After commit: a worker delivers when Celery has a broker; without one, a
    background thread of this process does, so the request never waits for a
    receiver."""
    mode = settings.WEBHOOKS_DELIVERY
    if mode == "off":
        return
    if settings.CELERY_BROKER_URL:
        from celery import current_app

        current_app.send_task("webhooks.tasks.deliver_webhooks")
    else:
        threading.Thread(target=_deliver_in_thread, daemon=True).start()


def _deliver_in_thread() -> None:
    try:
        webhooks_deliver()
    finally:
        close_old_connections()
        connection.close()


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: int


def webhooks_deliver(
    *, now: datetime | None = None, limit: int = 100
) -> DeliveryReport:
    """Send the messages due, each once; record every attempt. Messages are
    claimed first (their next attempt pushed past the timeout), so two workers
    never send the same message at once."""
    now = now or timezone.now()
    delivered = failed = 0
    for message in _claim(now, limit):
        result = post_signed(
            url=message.endpoint.url,
            secret=message.endpoint.secret,
            message_id=message.message_id,
            payload=message.payload,
            now=now,
        )
        if _record(message, result, now):
            delivered += 1
        else:
            failed += 1
    return DeliveryReport(delivered=delivered, failed=failed)


@transaction.atomic
def _claim(now: datetime, limit: int) -> list[WebhookMessage]:
    due = (
        WebhookMessage.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint")
        .filter(
            status=Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        )
        .order_by("next_attempt_at", "id")[:limit]
    )
    claimed = list(due)
    lease = now + timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS * 3)
    WebhookMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(
        next_attempt_at=lease
    )
    return claimed


@transaction.atomic
def _record(message: WebhookMessage, result: Delivery, now: datetime) -> bool:
    WebhookAttempt.objects.create(
        message=message,
        attempted_at=now,
        status_code=result.status_code,
        response_body=result.body,
        error=result.error,
        duration_ms=result.duration_ms,
    )
    message.attempts += 1
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=message.endpoint_id)
    if result.ok:
        message.status, message.delivered_at = Status.DELIVERED, now
        endpoint.failing_since = None
    else:
        _schedule_retry(message, now)
        _note_failure(endpoint, result, now)
    message.save(
        update_fields=["attempts", "status", "delivered_at", "next_attempt_at"]
    )
    endpoint.save(
        update_fields=["failing_since", "is_active", "disabled_at", "disabled_reason"]
    )
    return result.ok


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most 6 hours apart."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


def _schedule_retry(message: WebhookMessage, now: datetime) -> None:
    give_up_at = message.created_at + timedelta(
        seconds=settings.WEBHOOKS_RETRY_FOR_SECONDS
    )
    retry_at = now + retry_delay(message.attempts)
    if retry_at > give_up_at:
        message.status = Status.FAILED
    message.next_attempt_at = retry_at


def _note_failure(endpoint: WebhookEndpoint, result: Delivery, now: datetime) -> None:
    endpoint.failing_since = endpoint.failing_since or now
    limit = timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER_SECONDS)
    if now - endpoint.failing_since >= limit:
        endpoint.is_active = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = (
            f"Failing since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC; last: "
            f"{result.summary}"
        )[:500]


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Turn a disabled endpoint back on; its pending messages go out again."""
    endpoint.is_active = True
    endpoint.failing_since = endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.save()
    endpoint.messages.filter(status=Status.PENDING).update(
        next_attempt_at=timezone.now()
    )
    return endpoint
