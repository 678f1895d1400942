from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from segments.models import Customer, Segment


class CampaignQuerySet(models.QuerySet):
    def live(self, now=None):
        """Active campaigns inside their start/end window: the ones that enroll."""
        now = now or timezone.now()
        return self.filter(
            Q(starts_at__isnull=True) | Q(starts_at__lte=now),
            Q(ends_at__isnull=True) | Q(ends_at__gt=now),
            status=Campaign.Status.ACTIVE,
        )


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    segments = models.ManyToManyField(
        Segment, related_name="campaigns", blank=True, verbose_name="audience segments"
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="campaign_ends_after_start",
                violation_error_message="The end must come after the start.",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="campaign_status")]

    def __str__(self) -> str:
        return self.name

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.ACTIVE
            and (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or now < self.ends_at)
        )


class Enrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REMOVED = "removed", "Removed"

    class Source(models.TextChoices):
        SEGMENT = "segment", "Audience segment"
        API = "api", "API"
        ADMIN = "admin", "Admin"

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="enrollments"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    source_segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrolled_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    # Who removed them, as it read then ("admin: alice", "api: CRM sync").
    removed_by = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-enrolled_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"],
                name="enrollment_one_per_campaign_customer",
            ),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "status"], name="enrollment_campaign_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} in {self.campaign}"
