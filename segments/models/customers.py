from django.db import models
from django.db.models import Q
from django.utils import timezone


class Customer(models.Model):
    # The id integrations use; the integer primary key is also addressable.
    external_id = models.CharField(max_length=255, unique=True)
    email = models.EmailField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    first_name = models.CharField(max_length=150, blank=True, default="")
    last_name = models.CharField(max_length=150, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    # Not auto_now_add: imports carry the customer's real sign-up date.
    created_at = models.DateTimeField(default=timezone.now, verbose_name="sign up date")
    updated_at = models.DateTimeField(auto_now=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=~Q(email=""),
                name="customer_email_unique_when_present",
                violation_error_message="Another customer already has this email.",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="customer_created_at"),
            models.Index(fields=["last_seen_at"], name="customer_last_seen_at"),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Event(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    name = models.CharField(max_length=200)
    properties = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)
    # Set by the sender to make retries safe: a second event with it is a duplicate.
    message_id = models.CharField(max_length=255, blank=True, default="")
    # What storing it changed, as first answered: a retry gets the same answer.
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [
            # Per customer: two customers' senders may pick the same message id.
            models.UniqueConstraint(
                fields=["customer", "message_id"],
                condition=~Q(message_id=""),
                name="event_customer_message_id_unique",
            ),
        ]
        indexes = [
            # "did customer X perform event N within D days": behavioural conditions.
            models.Index(
                fields=["customer", "name", "timestamp"], name="event_cust_name_ts"
            ),
            # "who performed event N lately": event segments and the ingestion view.
            models.Index(fields=["name", "timestamp"], name="event_name_ts"),
            # Events by arrival: the ingestion page's counts per name (index-only)
            # and the dashboard's last 24 hours.
            models.Index(fields=["received_at", "name"], name="event_received_name"),
            # The latest events of every name: the ingestion view.
            models.Index(fields=["timestamp"], name="event_timestamp"),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.timestamp:%Y-%m-%d %H:%M}"
