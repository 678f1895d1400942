from django.conf import settings
from django.db import models
from django.utils import timezone

from .api_keys import ApiKey
from .customers import Customer
from .segments import Segment


class Source(models.TextChoices):
    RULE = "rule", "Rule"
    EVENT = "event", "Event"
    CSV = "csv", "CSV import"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    TEST = "test", "Test user"


class Override(models.TextChoices):
    NONE = "none", "None"
    ADD = "add", "Add"
    BLOCK = "block", "Block"


class MembershipQuerySet(models.QuerySet):
    def members(self):
        """Rows that make a customer a member: a `block` row only keeps them out."""
        return self.exclude(override=Override.BLOCK)

    def counted(self):
        """Members that count in stats: test users are left out."""
        return self.members().filter(is_test=False)


class Membership(models.Model):
    """A customer's place in a segment, or their block from it.

    At most one row per (segment, customer). A row with override `block` is not a
    membership: it keeps the rules from adding the customer.
    """

    Source = Source
    Override = Override

    segment = models.ForeignKey(
        # The unique (segment, customer) index serves every lookup by segment.
        Segment,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="memberships"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    override = models.CharField(
        max_length=5, choices=Override.choices, default=Override.NONE
    )
    is_test = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    reference_id = models.CharField(max_length=255, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["-joined_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "customer"],
                name="membership_one_per_segment_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["segment", "joined_at"], name="membership_seg_joined"),
            models.Index(
                fields=["segment", "override"],
                condition=~models.Q(override=Override.NONE),
                name="membership_seg_overrides",
            ),
            # Only the members that count in stats (`counted()`): the segments
            # list's and the segment page's members / new this week / month are
            # index-only counts.
            models.Index(
                fields=["segment", "joined_at"],
                condition=models.Q(is_test=False) & ~models.Q(override=Override.BLOCK),
                name="membership_counted_seg_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} in {self.segment}"

    @property
    def is_member(self) -> bool:
        return self.override != Override.BLOCK


class ActorType(models.TextChoices):
    ADMIN = "admin", "Admin user"
    API = "api", "API key"
    RULE = "rule", "Rule"
    EVENT = "event", "Event"
    CSV = "csv", "CSV import"
    SYSTEM = "system", "System"


class MembershipChange(models.Model):
    """Append-only history: one row per effective change of a membership."""

    class Action(models.TextChoices):
        ENTERED = "entered", "Entered"
        LEFT = "left", "Left"
        BLOCKED = "blocked", "Blocked"
        OVERRIDE_ADDED = "override_added", "Add override set"
        OVERRIDE_RESET = "override_reset", "Override reset"
        # A change older than the last one applied: kept for the record, not applied.
        IGNORED = "ignored", "Ignored (stale)"

    ActorType = ActorType

    # No foreign key constraints in the database (db_constraint=False): checked
    # row by row at COMMIT they were a fifth of what a bulk add spends writing
    # (four checks per history row). The history is append-only and written only
    # by record_changes, with the customers locked and beside the memberships
    # whose own constraints check the same segment and customer; deletes go
    # through Django, which cascades (segment) and sets null (customer, actor)
    # itself, and erasure empties a customer's rows explicitly.
    segment = models.ForeignKey(
        Segment,
        on_delete=models.CASCADE,
        related_name="changes",
        db_index=False,
        db_constraint=False,
    )
    # Null once the customer is erased: their rows stay, anonymised, so that the
    # segment's joins and leaves still add up.
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="membership_changes",
        db_constraint=False,
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    # Membership before and after: joins and leaves are counted from these.
    was_member = models.BooleanField()
    is_member = models.BooleanField()
    source = models.CharField(max_length=10, choices=Source.choices)
    override = models.CharField(max_length=5, choices=Override.choices)
    is_test = models.BooleanField(default=False)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    # Indexed where set (Meta.indexes): rules, events and imports leave both null.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    actor_api_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Who or what, as it read then: kept when the user or key is gone.
    actor_label = models.CharField(max_length=255)
    reference_id = models.CharField(max_length=255, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True, default="")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # A segment's history, newest first (ties by id): no sort, and no walk
            # of the whole history's newest rows looking for this segment's.
            models.Index(
                fields=["segment", "occurred_at", "id"], name="change_seg_occurred_id"
            ),
            models.Index(
                fields=["segment", "customer", "occurred_at"],
                name="change_seg_cust_occurred",
            ),
            # The history list, newest first.
            models.Index(fields=["occurred_at", "id"], name="change_occurred"),
            # Joins and leaves of counted members (a join is a move to is_member,
            # a leave from it): the segment page's chart and the dashboard's
            # growth are index-only counts.
            models.Index(
                fields=["segment", "occurred_at", "is_member"],
                condition=models.Q(is_test=False)
                & ~models.Q(was_member=models.F("is_member")),
                name="change_seg_moves",
            ),
            # Who made changes: for Django's SET NULL when a user or key is deleted.
            models.Index(
                fields=["actor_user"],
                condition=models.Q(actor_user__isnull=False),
                name="change_actor_user",
            ),
            models.Index(
                fields=["actor_api_key"],
                condition=models.Q(actor_api_key__isnull=False),
                name="change_actor_api_key",
            ),
        ]

    def __str__(self) -> str:
        who = self.customer or "An erased customer"
        return f"{who} {self.get_action_display().lower()} {self.segment}"
