from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from segments.rules import Match


class Segment(models.Model):
    # A span of days anyone asks for (expiry, backfill): at most a hundred years.
    MAX_DAYS = 36_500

    class Type(models.TextChoices):
        STATIC = "static", "Static"
        RULE = "rule", "Rule"
        EVENT = "event", "Event-triggered"

    class ComputeState(models.TextChoices):
        IDLE = "idle", "Up to date"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Computing"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.STATIC)
    trigger_event = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="Event-triggered segments: the event that makes a customer enter.",
    )
    exit_after_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)],
        help_text="Event-triggered segments: members leave this many days after "
        "entering (empty: they stay).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived = models.BooleanField(default=False)

    # Rule segments: the state of the last computation of their members.
    compute_state = models.CharField(
        max_length=8, choices=ComputeState.choices, default=ComputeState.IDLE
    )
    compute_requested_at = models.DateTimeField(null=True, blank=True)
    compute_started_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(
        null=True, blank=True, verbose_name="last computed"
    )
    compute_error = models.TextField(blank=True, default="")
    compute_attempts = models.PositiveSmallIntegerField(default=0)
    # What the rules read (from segments.rules.dependencies), so that a change to a
    # customer or an event only looks again at the segments it can affect.
    watched_fields = models.JSONField(default=list, blank=True)
    watched_events = models.JSONField(default=list, blank=True)
    watched_segments = models.JSONField(default=list, blank=True)
    time_relative = models.BooleanField(
        default=False, help_text="Its rules depend on the time: refreshed regularly."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="segment_name_unique_ci",
                violation_error_message="A segment with this name already exists.",
            ),
            models.CheckConstraint(
                condition=(Q(type="event") & ~Q(trigger_event=""))
                | (~Q(type="event") & Q(trigger_event="")),
                name="segment_trigger_event_iff_event_type",
                violation_error_message=(
                    "Event-triggered segments need a trigger event; others take none."
                ),
            ),
        ]
        indexes = [
            models.Index(
                fields=["trigger_event"],
                condition=Q(type="event", archived=False),
                name="segment_live_trigger_event",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SegmentRule(models.Model):
    """A group of conditions combined with ALL / ANY / NONE; groups nest."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="rules")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    match = models.CharField(
        max_length=4, choices=[(m.value, m.name) for m in Match], default=Match.ALL
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["segment"],
                condition=Q(parent__isnull=True),
                name="segmentrule_one_root_per_segment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.match.upper()} group of {self.segment}"


class Condition(models.Model):
    rule = models.ForeignKey(
        SegmentRule, on_delete=models.CASCADE, related_name="conditions"
    )
    field = models.CharField(max_length=255)
    operator = models.CharField(max_length=32)
    value = models.JSONField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.field} {self.operator} {self.value!r}"
