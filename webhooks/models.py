import base64
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from segments.models import Segment


class EventType(models.TextChoices):
    SEGMENT_ENTERED = "segment.entered", "A customer entered a segment"
    SEGMENT_LEFT = "segment.left", "A customer left a segment"
    CAMPAIGN_ENROLLED = "campaign.enrolled", "A customer was enrolled in a campaign"
    CAMPAIGN_REMOVED = "campaign.removed", "A customer was removed from a campaign"


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    event_types = models.JSONField(
        default=list,
        help_text=(
            "Which of segment.entered, segment.left, campaign.enrolled, "
            "campaign.removed to send."
        ),
    )
    segments = models.ManyToManyField(
        Segment,
        blank=True,
        related_name="+",
        help_text=(
            "Only changes of these segments, and of campaigns whose audience includes "
            "one of them (none chosen: everything)."
        ),
    )
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    is_active = models.BooleanField(default=True)
    # Set at the first failure after a success; an endpoint failing for
    # WEBHOOKS_DISABLE_AFTER_SECONDS is disabled.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["url", "id"]
        indexes = [models.Index(fields=["is_active"], name="webhook_endpoint_active")]

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        types = self.event_types
        unknown = (
            [t for t in types if t not in EventType.values]
            if isinstance(types, list)
            else [types]
        )
        if unknown or not types:
            raise ValidationError(
                {
                    "event_types": "Choose one or more of "
                    + ", ".join(EventType.values)
                    + (f"; not {unknown[0]!r}." if unknown else ".")
                }
            )


class WebhookMessage(models.Model):
    """One delivery: a page of changes of one kind, for one endpoint."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed for good"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="messages"
    )
    # The Standard Webhooks webhook-id: the same on every retry.
    message_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_message_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint}"


class WebhookAttempt(models.Model):
    message = models.ForeignKey(
        WebhookMessage, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} at {self.attempted_at:%H:%M:%S}"
