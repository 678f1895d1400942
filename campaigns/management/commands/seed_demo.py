"""`manage.py seed_demo`: a lived-in dataset so a newcomer sees a working dashboard.

Customers and events are bulk-inserted (demo data, not a product operation);
segments, memberships, overrides and campaigns go through the services, so the
history and enrollments are the ones real operations would leave.
"""

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from campaigns.management.demo.catalog import (
    BETA,
    BETA_LEAVE_SHARE,
    BETA_SHARE,
    BIG_PURCHASE,
    HIGH_VALUE,
    LOYALTY,
    OVERRIDES,
    PURCHASED,
    QA_ACCOUNTS,
    SEGMENTS,
    SURVEY,
)
from campaigns.management.demo.people import (
    EVENT_WINDOW,
    EXTERNAL_ID_PREFIX,
    DemoCustomer,
    demo_customers,
)
from campaigns.models import Campaign, Enrollment
from campaigns.services import campaign_create, campaign_delete
from segments.models import Customer, Event, Membership, MembershipChange, Segment
from segments.services import (
    Actor,
    customer_upsert,
    segment_create,
    segment_delete,
    segment_members_add,
    segment_members_remove,
    segment_override_set,
    segment_test_user_add,
)
from segments.services.compute import segment_compute_run

BATCH_SIZE = 1000
DEFAULT_CUSTOMERS = 3000
DEFAULT_SEED = 42


class Command(BaseCommand):
    help = (
        "Fill the database with demo customers, events, segments and campaigns. "
        "Deterministic for a given --seed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help="How many demo customers (two QA accounts come on top).",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        rerun = parser.add_mutually_exclusive_group()
        rerun.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has customers.",
        )
        rerun.add_argument(
            "--reset",
            action="store_true",
            help=(
                "Delete the demo data first: customers with demo- ids, and the demo "
                "segments and campaigns by name. Other data is kept."
            ),
        )

    def handle(self, *args, customers, seed, if_empty, reset, **options):
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        if if_empty and Customer.objects.exists():
            self.stdout.write("Customers already exist: --if-empty, nothing seeded.")
            return
        started = time.monotonic()

        def say(message: str) -> None:
            self.stdout.write(f"{message} ({time.monotonic() - started:.1f}s)")

        try:
            with transaction.atomic():
                _clear_or_refuse(reset=reset, say=say)
                seeder = DemoSeeder(random.Random(seed), now=timezone.now(), say=say)
                seeder.seed(customers)
        except ValidationError as exc:
            problems = "; ".join(exc.messages)
            raise CommandError(f"Could not seed the demo: {problems}") from exc
        self.stdout.write(self.style.SUCCESS(_summary(time.monotonic() - started)))


def _clear_or_refuse(*, reset: bool, say: Callable[[str], None]) -> None:
    if not _demo_data_exists():
        return
    if not reset:
        raise CommandError(
            "Demo data already exists. Run `manage.py seed_demo --reset` to replace "
            "it, or --if-empty to leave the database as it is."
        )
    actor = Actor.system("seed_demo")
    for campaign in Campaign.objects.filter(name__in=[LOYALTY, SURVEY]):
        campaign_delete(campaign=campaign, actor=actor)
    for segment in Segment.objects.filter(name__in=[s["name"] for s in SEGMENTS]):
        segment_delete(segment=segment, actor=actor)
    Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX).delete()
    say("Removed the previous demo data")


def _demo_data_exists() -> bool:
    return (
        Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX).exists()
        or Segment.objects.filter(name__in=[s["name"] for s in SEGMENTS]).exists()
        or Campaign.objects.filter(name__in=[LOYALTY, SURVEY]).exists()
    )


Person = tuple[Customer, DemoCustomer]


class DemoSeeder:
    def __init__(
        self, rng: random.Random, *, now: datetime, say: Callable[[str], None]
    ) -> None:
        self.rng, self.now, self.say = rng, now, say
        self.actor = Actor.system("seed_demo")

    def seed(self, count: int) -> None:
        people = self.customers(count)
        qa = self.qa_accounts()
        segments = self.segments()
        self.fill_static(segments[BETA], people)
        self.fill_event(segments[PURCHASED], people)
        self.overrides(segments, people)
        self.test_users([segments[HIGH_VALUE], segments[PURCHASED]], qa)
        self.compute(segments)
        self.campaigns(segments)

    def customers(self, count: int) -> list[Person]:
        demo = demo_customers(self.rng, count=count, now=self.now)
        rows = [_customer_row(d) for d in demo]
        Customer.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        events = [
            Event(
                customer=row,
                name=e.name,
                properties=e.properties,
                timestamp=e.timestamp,
                received_at=e.timestamp,
            )
            for row, d in zip(rows, demo, strict=True)
            for e in d.events
        ]
        Event.objects.bulk_create(events, batch_size=BATCH_SIZE)
        self.say(f"Created {len(rows)} customers and {len(events)} events")
        return list(zip(rows, demo, strict=True))

    def qa_accounts(self) -> list[Customer]:
        return [
            customer_upsert(
                external_id=f"{EXTERNAL_ID_PREFIX}{key}",
                email=f"{key}@segments.test",
                first_name=first,
                last_name=last,
                attributes={"plan": "enterprise", "internal": True},
                created_at=self.now - EVENT_WINDOW,
                actor=self.actor,
            ).customer
            for key, first, last in QA_ACCOUNTS
        ]

    def segments(self) -> dict[str, Segment]:
        segments = {
            spec["name"]: segment_create(actor=self.actor, **spec) for spec in SEGMENTS
        }
        self.say(f"Created {len(segments)} segments")
        return segments

    def compute(self, segments: dict[str, Segment]) -> None:
        """Rule segments get their members from the rules, overrides respected."""
        for segment in segments.values():
            result = segment_compute_run(segment_id=segment.pk)
            if result:
                self.say(f"{segment.name}: {result.entered} matched the rules")

    def fill_static(self, segment: Segment, people: list[Person]) -> None:
        """Beta testers joined over the last 90 days; a few have left since."""
        chosen = self.rng.sample(people, k=max(1, round(len(people) * BETA_SHARE)))
        joins = [(c, self.some_day_since(d.created_at)) for c, d in chosen]
        for at, customers in _by_day(joins):
            segment_members_add(
                segment=segment,
                customers=customers,
                actor=self.actor,
                occurred_at=at,
                description="Opted in to the beta programme",
            )
        leaves = [
            (c, self.some_day_since(joined + timedelta(days=1)))
            for c, joined in joins
            if self.rng.random() < BETA_LEAVE_SHARE
            and self.now - joined >= timedelta(days=1)
        ]
        for at, customers in _by_day(leaves):
            segment_members_remove(
                segment=segment,
                customers=customers,
                actor=self.actor,
                occurred_at=at,
                description="Left the beta programme",
            )
        self.say(f"{segment.name}: {len(joins)} joined, {len(leaves)} left")

    def fill_event(self, segment: Segment, people: list[Person]) -> None:
        """Stands in for the event engine: members enter at their first big purchase."""
        entries = []
        for customer, demo in people:
            big = [
                e for e in demo.purchases() if e.properties["amount"] >= BIG_PURCHASE
            ]
            if big:
                entries.append((customer, big[0].timestamp))
        actor = Actor.event(segment.trigger_event)
        for at, customers in _by_day(entries):
            segment_members_add(
                segment=segment, customers=customers, actor=actor, occurred_at=at
            )
        self.say(f"{segment.name}: {len(entries)} entered")

    def overrides(self, segments: dict[str, Segment], people: list[Person]) -> None:
        for name, status, count, qualifies, why in OVERRIDES:
            pool = [(c, d) for c, d in people if qualifies(d.attributes)]
            for customer, demo in self.rng.sample(pool, k=min(count, len(pool))):
                segment_override_set(
                    segment=segments[name],
                    customer=customer,
                    user_status=status,
                    actor=self.actor,
                    description=why,
                    occurred_at=self.some_day_since(demo.created_at),
                )
        self.say("Set the overrides")

    def test_users(self, segments: list[Segment], qa: list[Customer]) -> None:
        for segment in segments:
            for customer in qa:
                segment_test_user_add(
                    segment=segment, customer=customer, actor=self.actor
                )
        self.say(f"Added {len(qa)} test users to {len(segments)} segments")

    def campaigns(self, segments: dict[str, Segment]) -> None:
        campaign_create(
            name=LOYALTY,
            description="Double points for recent buyers and high value customers.",
            status=Campaign.Status.ACTIVE,
            segments=[segments[PURCHASED], segments[HIGH_VALUE]],
            starts_at=self.now - timedelta(days=30),
            ends_at=self.now + timedelta(days=60),
            actor=self.actor,
        )
        campaign_create(
            name=SURVEY,
            description="Ask beta testers what to build next.",
            segments=[segments[BETA]],
            actor=self.actor,
        )
        self.say("Created 2 campaigns")

    def some_day_since(self, since: datetime) -> datetime:
        """Now, or a whole number of days ago, within 90 days and not before `since`."""
        days = min((self.now - since).days, EVENT_WINDOW.days - 1)
        return self.now - timedelta(days=self.rng.randint(0, max(days, 0)))


def _customer_row(demo: DemoCustomer) -> Customer:
    return Customer(
        external_id=demo.external_id,
        email=demo.email,
        phone=demo.phone,
        first_name=demo.first_name,
        last_name=demo.last_name,
        attributes=demo.attributes,
        created_at=demo.created_at,
        last_seen_at=demo.last_seen_at,
    )


def _by_day(entries: Iterable[tuple[Customer, datetime]]):
    """(time, customers) per calendar day, oldest first: one service call a day, at
    the day's latest time so nobody enters before what made them enter."""
    days: dict = defaultdict(list)
    for customer, at in entries:
        days[at.date()].append((customer, at))
    for day in sorted(days):
        group = days[day]
        yield max(at for _, at in group), [customer for customer, _ in group]


def _summary(seconds: float) -> str:
    lines = [
        f"Customers: {Customer.objects.count()}",
        f"Events: {Event.objects.count()}",
        "Segments:",
    ]
    for segment in Segment.objects.order_by("name"):
        members = Membership.objects.members().filter(segment=segment).count()
        lines.append(f"  {segment.name} ({segment.type}): {members} members")
    overrides = Membership.objects.exclude(override=Membership.Override.NONE)
    lines += [
        f"Membership history rows: {MembershipChange.objects.count()}",
        f"Overrides: {overrides.filter(is_test=False).count()}, "
        f"test users: {Membership.objects.filter(is_test=True).count()}",
        "Campaigns:",
    ]
    for campaign in Campaign.objects.order_by("name"):
        enrolled = Enrollment.objects.filter(campaign=campaign).count()
        lines.append(f"  {campaign.name} ({campaign.status}): {enrolled} enrolled")
    lines.append(f"Done in {seconds:.1f}s")
    return "\n".join(lines)
