"""Webhooks out: segment entries and exits, queued in the transaction that made
them (nothing for rolled-back work), delivered after it commits, signed per
Standard Webhooks, retried with exponential backoff.

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

from segments.models import Membership, Segment

from .delivery import Delivery, post_signed
from .models import EventType, WebhookAttempt, WebhookEndpoint, WebhookMessage

Status = WebhookMessage.Status


def webhook_members_changed(
    sender, *, memberships: QuerySet[Membership], entered: bool, context, **kwargs
) -> None:
    """Listener of segments' members_changed: queue a message per page of
    customers for every active endpoint that wants this change."""
    event_type = EventType.SEGMENT_ENTERED if entered else EventType.SEGMENT_LEFT
    endpoints = _endpoints_for(event_type)
    if not endpoints:
        return
    rows = memberships.order_by("segment_id", "customer_id").values_list(
        "segment_id", "customer_id", "customer__external_id", "source"
    )
    by_segment: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for segment_id, customer_id, external_id, source in rows:
        by_segment[segment_id].append(
            {"id": external_id, "internal_id": customer_id, "source": source}
        )
    names = dict(Segment.objects.filter(pk__in=by_segment).values_list("pk", "name"))
    messages = [
        _message(endpoint, event_type, segment_id, names, page, context)
        for segment_id, customers in by_segment.items()
        for endpoint in endpoints
        if endpoint.wants(segment_id)
        for page in _pages(customers)
    ]
    if messages:
        WebhookMessage.objects.bulk_create(messages)
        transaction.on_commit(deliver_soon)


@dataclass
class _Endpoint:
    endpoint: WebhookEndpoint
    segment_ids: set[int]

    def wants(self, segment_id: int) -> bool:
        return not self.segment_ids or segment_id in self.segment_ids


def _endpoints_for(event_type: str) -> list[_Endpoint]:
    active = WebhookEndpoint.objects.filter(is_active=True).prefetch_related("segments")
    return [
        _Endpoint(e, {s.pk for s in e.segments.all()})
        for e in active
        if event_type in e.event_types
    ]


def _pages(customers: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    size = settings.WEBHOOKS_PAGE_SIZE
    return [customers[i : i + size] for i in range(0, len(customers), size)]


def _message(
    target: _Endpoint,
    event_type: str,
    segment_id: int,
    names: dict[int, str],
    customers: list[dict[str, Any]],
    context,
) -> WebhookMessage:
    now = timezone.now()
    return WebhookMessage(
        endpoint=target.endpoint,
        message_id=f"msg_{uuid.uuid4().hex}",
        event_type=event_type,
        payload={
            "type": event_type,
            "timestamp": now.isoformat(),
            "data": {
                "segment": {"id": segment_id, "name": names.get(segment_id, "")},
                "occurred_at": context.occurred_at.isoformat(),
                "actor": context.actor.label,
                "reference_id": context.reference_id,
                "description": context.description,
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
